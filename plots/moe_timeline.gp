# moe_timeline.gp - the step timeline (drawn by plots/moe_timeline.sh, which
# sets csv, out and the two runs' names l1, l2): one bar per task on its run's lane, compute (attention,
# expert compute) above network (dispatch and its NVLink hop, combine and
# its NVLink hop), micro-batch 1 darker than micro-batch 0.
set datafile separator ','
set terminal pngcairo noenhanced size 1320,520 font 'Sans,9' fontscale 2.0833 linewidth 1.0
set output out
set xlabel 'time (ms)'
set yrange [-0.6:3.6]
set ytics (l1.': network' 0, l1.': compute' 1, l2.': network' 2, l2.': compute' 3) font ',7'
set xtics nomirror
set key outside top center horizontal samplen 1.2 font ',7'
set style fill solid 1.0 border lc rgb 'black'
# colours: kind (0 attention, 1 compute, 2 dispatch, 3 combine) x micro-batch
col(k, mb) = k == 0 ? (mb > 0 ? 0x9e9e9e : 0xd9d9d9) : k == 1 ? (mb > 0 ? 0x1f4e9c : 0x6fa8dc) : \
             k == 2 ? (mb > 0 ? 0xb45f06 : 0xf6b26b) : (mb > 0 ? 0x38761d : 0x93c47d)
plot csv skip 1 using (($3+$4)/2):1:(($4-$3)/2):(0.35):(col($5, $6)) with boxxyerror lc rgb variable notitle, \
     NaN with boxes lc rgb '#d9d9d9' title 'attention', \
     NaN with boxes lc rgb '#6fa8dc' title 'expert compute', \
     NaN with boxes lc rgb '#f6b26b' title 'dispatch (+ NVLink hop)', \
     NaN with boxes lc rgb '#93c47d' title 'combine (+ NVLink hop)'
