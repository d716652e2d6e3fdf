# moe.gp - figure 3 (plots/plot_moe.c): an MoE step's time split into
# dispatch, compute and combine, a stacked bar per value of `xlabel` (mean
# over its runs; error bar, on a white halo: min-max of the runs' totals), clusters of bars
# per value of a second --by key. Data: moe.csv (x, labels, the three parts,
# total min and max, runs).
# Set before this file: xlabel, ylabel, nbars, maxlabel, nclusters,
# clusters[], cluster_x[].

@png_out
bw = 0.4
set xlabel xlabel . note_room
set ylabel ylabel
set xrange [-0.7:nbars + nclusters - (nclusters > 0 ? 1 : 0) - 0.3]
set yrange [0:*]
set xtics nomirror scale 0
set ytics nomirror
set style fill pattern border lc rgb 'black'
eval bar_xtics
set key top left horizontal samplen 1.5 font small_font
# the clusters: named at the top of the plot, a dotted line between two
set offsets 0, 0, graph 0.12, 0
do for [i=1:nclusters] {
    set label i clusters[i] at first cluster_x[i], graph 0.96 center font small_font
    if (i < nclusters) { set arrow i from first (cluster_x[i] + cluster_x[i+1]) / 2.0, graph 0 to first (cluster_x[i] + cluster_x[i+1]) / 2.0, graph 1 nohead dt 3 lw 0.8 lc rgb 'black' }
}
if (nclusters > 0) { set key outside top center horizontal }
plot 'moe.csv' skip 1 using 1:(0):($1-bw):($1+bw):(0):4 with boxxyerror lt 1 lc rgb 'black' fs pattern 5 title 'dispatch', \
     '' skip 1 using 1:(0):($1-bw):($1+bw):4:($4+$5) with boxxyerror lt 1 lc rgb 'black' fs pattern 0 title 'compute', \
     '' skip 1 using 1:(0):($1-bw):($1+bw):($4+$5):($4+$5+$6) with boxxyerror lt 1 lc rgb 'black' fs pattern 1 title 'combine', \
     '' skip 1 using 1:($4+$5+$6):7:8 with yerrorbars lt 1 lc rgb 'white' lw 3.5 ps 0 notitle, \
     '' skip 1 using 1:($4+$5+$6):7:8:xtic(2) with yerrorbars lt 1 lc rgb 'black' lw 1.2 ps 0 notitle
@pdf_out
