# heatmap.gp - figure 4 (plots/plot_heatmap.c): link utilisation of one run,
# a row per link (grouped by kind), a column per time cell. Data:
# heatmap.csv (t, row, link, t0_ns, t1_ns, bytes, util_pct), heatmap_links.csv.
# Set before this file: cblabel, xlabel, tend, nrows, ngroups, group_kind[],
# group_first[], group_rows[], nnames, row_name[].

@png_out
set palette gray negative
set cbrange [0:100]
set cbtics 25
set cblabel cblabel
set xlabel xlabel . note_room
unset grid
set xrange [0:tend]
set yrange [-0.5:nrows - 0.5]
set xtics nomirror out nice_step(tend, xticks_wanted)
# kinds: their names at the middle of their rows (on the right when each row
# has its own name on the left), a line between two kinds
set ytics () scale 0
set y2tics () scale 0
if (nnames > 0) {
    do for [i=1:nnames] { set ytics add (row_name[i] i - 1) }
    set ytics font small_font
    do for [g=1:ngroups] { set y2tics add (group_kind[g] group_first[g] + (group_rows[g] - 1) / 2.0) }
    set y2range [-0.5:nrows - 0.5]
    set y2tics font small_font
} else {
    do for [g=1:ngroups] { set ytics add (group_kind[g] group_first[g] + (group_rows[g] - 1) / 2.0) }
    unset y2tics
}
do for [g=2:ngroups] {
    set arrow g from graph 0, first group_first[g] - 0.5 to graph 1, first group_first[g] - 0.5 nohead lw 0.8 lc rgb '#808080' front
}
plot 'heatmap.csv' skip 1 using 1:2:7 with image notitle
@pdf_out
