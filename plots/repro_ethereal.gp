# repro_ethereal.gp - docs/fabrics.md's reproduction figure (drawn by
# plots/repro_ethereal.sh, which sets csv and out): 2 x 2 panels, the
# leaf-spine's 16 MiB all-to-all (packet engine) on the left and the
# fat-tree's 4 MiB one on the right; on top completion over the ideal bound,
# below max over mean of the bytes on the live leaf uplinks; per path mode
# three bars: no link down (white), one (hatched), two (dark).
set datafile separator ','
set terminal pngcairo noenhanced size 1600,900 font 'Sans,9' fontscale 1.6 linewidth 1.2
set output out
modes = 'ecmp spray adaptive split-2 split-4 split-8 ethereal'
midx(s) = sum [i = 1:7] (word(modes, i) eq s ? i - 1 : 0)
fidx(d) = d eq 'none' ? 0 : (strstrt(d, ' ') > 0 ? 2 : 1)
x(s, d) = midx(s) * 4 + fidx(d)
# a row of the panel (fabric, engine, MiB per host) or NaN
sel(f, e, m) = (strcol(1) eq f && strcol(2) eq e && abs($4 - m) < 0.01) ? 1 : NaN
set style fill solid border lc rgb 'black'
set boxwidth 0.9
set xrange [-1:28]
set xtics () nomirror scale 0 font ',8'
do for [i = 1:7] { set xtics add (word(modes, i) (i - 1) * 4 + 1) }
set ytics nomirror
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top left font ',8' samplen 1.5
set multiplot layout 2, 2
do for [p = 1:2] {
    f = p == 1 ? 'leaf_spine' : 'fat_tree'
    m = p == 1 ? 16 : 4
    set title sprintf('%s, %d MiB per host: completion / ideal bound', p == 1 ? '256-GPU leaf-spine' : '512-GPU fat-tree', m)
    set yrange [0.9:*]
    plot for [k = 0:2] csv skip 1 using (fidx(strcol(5)) == k ? x(strcol(6), strcol(5)) : NaN):($9 * sel(f, 'packet', m)) \
        with boxes fs pattern (k == 0 ? 0 : k == 1 ? 4 : 3) lc rgb 'black' \
        title (k == 0 ? 'no link down' : k == 1 ? '1 link down' : '2 links down')
}
do for [p = 1:2] {
    f = p == 1 ? 'leaf_spine' : 'fat_tree'
    m = p == 1 ? 16 : 4
    set title 'bytes on the live leaf uplinks: max / mean'
    set yrange [0.9:*]
    plot for [k = 0:2] csv skip 1 using (fidx(strcol(5)) == k ? x(strcol(6), strcol(5)) : NaN):($10 * sel(f, 'packet', m)) \
        with boxes fs pattern (k == 0 ? 0 : k == 1 ? 4 : 3) lc rgb 'black' notitle
}
unset multiplot
