# repro_ethereal_ft512.gp - docs/fabrics.md's reproduction figure for the
# paper's non-blocking 512-GPU fat-tree (the GraphML file; drawn by
# plots/repro_ethereal.sh, which sets csv and out, for a database of
# `tools/repro_ethereal.sh DB ft512` runs): top, completion over the ideal
# bound per path mode, four bars: 4 MiB per host with no link down (white),
# one (light grey), two (dark grey), and 16 MiB with none (black); bottom,
# at 4 MiB with no link down, max over mean of the bytes on each tier's
# links, in the same shades: leaf uplinks, aggregation-to-core uplinks,
# cores' downlinks, aggregation switches' downlinks into the leaves.
set datafile separator ','
set terminal pngcairo noenhanced size 1600,900 font 'Sans,9' fontscale 1.6 linewidth 1.2
set output out
modes = 'ecmp spray adaptive split-2 split-4 split-8 ethereal'
midx(s) = sum [i = 1:7] (word(modes, i) eq s ? i - 1 : 0)
# the top panel's bar of a row: 0-2 links down at 4 MiB, 3 for 16 MiB; -1 none
fidx(d) = d eq 'none' ? 0 : (strstrt(d, ' ') > 0 ? 2 : 1)
bar(d, m) = abs(m - 4) < 0.01 ? fidx(d) : (abs(m - 16) < 0.01 && d eq 'none' ? 3 : -1)
x(s, k) = midx(s) * 5 + k
colors = '#ffffff #b0b0b0 #606060 #101010'
set style fill solid 1.0 border lc rgb 'black'
set boxwidth 0.9
set xrange [-1:35]
set xtics () nomirror scale 0 font ',8'
do for [i = 1:7] { set xtics add (word(modes, i) (i - 1) * 5 + 1.5) }
set ytics nomirror
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top center horizontal font ',8' samplen 1.5 width 2
set multiplot layout 2, 1
set title '512-GPU non-blocking fat-tree (GraphML: every aggregation switch to every core), all-to-all: completion / ideal bound'
set yrange [0.9:1.3]
plot for [k = 0:3] csv skip 1 using (bar(strcol(5), $4) == k ? x(strcol(6), k) : NaN):9 \
    with boxes lc rgb word(colors, k + 1) \
    title (k == 0 ? '4 MiB, no link down' : k == 1 ? '4 MiB, 1 link down' : k == 2 ? '4 MiB, 2 links down' : '16 MiB, no link down')
set title '4 MiB per host, no link down: bytes on each tier''s links, max / mean'
set yrange [0.95:1.3]
plot for [k = 0:3] csv skip 1 using ((strcol(5) eq 'none' && abs($4 - 4) < 0.01) ? x(strcol(6), k) : NaN):(column(10 + k)) \
    with boxes lc rgb word(colors, k + 1) \
    title (k == 0 ? 'leaf uplinks' : k == 1 ? 'aggregation-to-core' : k == 2 ? 'core downlinks' : 'aggregation downlinks')
unset multiplot
