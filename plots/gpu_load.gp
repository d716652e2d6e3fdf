# gpu_load.gp - figure 5 (plots/plot_gpu_load.c): per MoE layer, the busiest
# GPU's tokens over the mean, a line per series (median over its runs).
# Data: files[i] (layer, median, min, max, runs).
# Set before this file: keytitle, nseries, series[], files[], first_layer,
# last_layer.

@png_out
set xlabel 'MoE layer' . note_room
set ylabel 'GPU tokens, max / mean'
set xrange [first_layer:last_layer]
set yrange [0:*]
set xtics nomirror
set ytics nomirror
set mxtics 1
# one tick per layer when few, else a round step
span = last_layer - first_layer
if (span <= 10) { set xtics 1 } else { if (span <= 40) { set xtics 4 } else { set xtics 16 } }
set key outside top center horizontal samplen 1.8 width -1 font small_font title keytitle font small_font
set label 1 'balanced' at graph 0.99, first 1 right offset 0, -0.6 font small_font
plot for [i=1:nseries] files[i] skip 1 using 1:2 with linespoints lt i title series[i], \
     1 with lines dt 3 lw 1 lc rgb 'black' notitle
@pdf_out
