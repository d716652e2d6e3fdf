# question.gp - docs/question.md's figure (drawn by plots/question.sh, which
# sets csv and out): one panel per workload (all-to-all, ring all-reduce,
# the Mixtral trace), the network phases' summed completion over their
# summed ideal bounds; per path mode three bars: today's idealized model (white), RoCE
# (hatched), UEC-like (dark).
set datafile separator ','
set terminal pngcairo noenhanced size 1800,600 font 'Sans,9' fontscale 1.6 linewidth 1.2
set output out
modes = 'ecmp spray adaptive ethereal'
profs = 'ideal roce uec'
midx(s) = sum [i = 1:4] (word(modes, i) eq s ? i - 1 : 0)
pidx(s) = sum [i = 1:3] (word(profs, i) eq s ? i - 1 : 0)
x(m, p) = midx(m) * 4 + pidx(p)
set style fill solid border lc rgb 'black'
set boxwidth 0.9
set xrange [-1:16]
set xtics () nomirror scale 0 font ',8'
do for [i = 1:4] { set xtics add (word(modes, i) (i - 1) * 4 + 1) }
set ytics nomirror
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top left font ',8' samplen 1.5
set multiplot layout 1, 3
do for [w = 1:3] {
    wk = word('alltoall allreduce moe', w)
    set title sprintf('%s: network time / ideal bound', w == 1 ? 'all-to-all' : w == 2 ? 'ring all-reduce' : 'Mixtral trace')
    set yrange [0.9:*]
    plot for [k = 0:2] csv skip 1 using (pidx(strcol(2)) == k && strcol(1) eq wk ? x(strcol(3), strcol(2)) : NaN):7 \
        with boxes fs pattern (k == 0 ? 0 : k == 1 ? 4 : 3) lc rgb 'black' \
        title (k == 0 ? 'idealized (today)' : k == 1 ? 'RoCE: dcqcn, PFC, go-back-N' : 'UEC-like: nscc, trim, selective')
}
unset multiplot
