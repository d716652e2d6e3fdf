# timeline.gp - figure 6 (plots/plot_timeline.c): one step of one run, a
# box per task from its start to its end in its lane (compute, dispatch,
# combine, other), the critical path filled, the other tasks hollow.
# Data: timeline.csv (lane, start, end, critical, phase, layer, chunk).
# Set before this file: xlabel, nlanes, lanes[].

@png_out
set xlabel xlabel . note_room
set yrange [-0.6:nlanes - 0.4]
set xrange [0:*]
set ytics nomirror scale 0
set xtics nomirror
set grid noytics
set ytics ()
do for [i=1:nlanes] { set ytics add (lanes[i] i - 1) }
set key outside top center horizontal samplen 1.5 font small_font
plot 'timeline.csv' skip 1 using (($2+$3)/2):($4 == 0 ? $1 : NaN):2:3:($1-0.32):($1+0.32) with boxxyerror lt 1 lc rgb 'black' fs empty title 'off the critical path', \
     '' skip 1 using (($2+$3)/2):($4 == 1 ? $1 : NaN):2:3:($1-0.32):($1+0.32) with boxxyerror lt 1 lc rgb '#606060' fs solid 1.0 border lc rgb 'white' title 'critical path'
@pdf_out
