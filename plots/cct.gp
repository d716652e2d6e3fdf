# cct.gp - figure 1 (plots/plot_cct.c): network completion time over the
# ideal bound, a bar per value of `xlabel` at the median over its runs with
# a min-max error bar; with a second --by key (keytitle), a cluster of
# patterned bars per value, one per series. Data: cct.csv (a row per bar
# position; per series median,min,max,runs).
# Set before this file: xlabel, keytitle, nbars, maxlabel, nseries,
# series[nseries].

@png_out
set style data histograms
set style histogram errorbars gap 1 lw 1
set style fill pattern border lc rgb 'black'
set xlabel xlabel . note_room
set ylabel 'network time / ideal'
set yrange [0:*]
set xtics nomirror scale 0
eval bar_xtics
if (nseries > 1) {
    set key outside top center horizontal samplen 1.5 font small_font title keytitle font small_font
} else {
    unset key
}
plot for [i=1:nseries] 'cct.csv' skip 1 using (column(4*i-2)):(column(4*i-1)):(column(4*i)):xtic(1) lt 1 lc rgb 'black' fs pattern bar_pattern[i] title series[i], \
     1 with lines dt 3 lw 1 lc rgb 'black' notitle
@pdf_out
