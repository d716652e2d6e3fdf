# fct.gp - figure 2 (plots/plot_fct.c): the CDF of flow completion times, a
# line per series. Data: files[i] (fct_us, fraction).
# Set before this file: keytitle, nseries, series[], files[].

@png_out
set xlabel 'flow completion time (us)' . note_room
set ylabel 'fraction of flows'
set xrange [0:*]
set yrange [0:1.02]
set ytics 0.25 nomirror
set xtics nomirror
set key bottom right samplen 2.5 font small_font title keytitle font small_font
plot for [i=1:nseries] files[i] skip 1 using 1:2 with lines lt i title series[i]
@pdf_out
