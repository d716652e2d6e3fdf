# moe_hier.gp - docs/moe-steps.md's hierarchical-dispatch figure (drawn by
# plots/moe_hier.sh, which sets csv and out): per run of
# scenarios/moe_hier.ini a bar of the step, compute (hatched) under the
# network time (white; the phase model: the step is their sum), labelled
# with the GB its GPUs' NICs sent; bars grouped by placement.
set datafile separator ','
set terminal pngcairo noenhanced size 1320,560 font 'Sans,9' fontscale 2.0833 linewidth 1.4
set output out
set style fill pattern border lc rgb 'black'
set ylabel 'step (ms)'
set yrange [0:*]
set offsets 0, 0, graph 0.12, 0
set xrange [-0.7:8.7]
set xtics nomirror scale 0 font ',7'
set ytics nomirror
set key at first 4.5, graph 0.97 center top vertical samplen 1.5 font ',8'
bw = 0.4
# x: run i (0..7) of the CSV, a gap between the two placements
xpos(i) = i + (i >= 4 ? 1 : 0)
label(d, n) = (d eq 'direct' ? 'direct' : 'hier') . (n eq '0' ? '' : sprintf(' m=%s', n))
set label 1 'contiguous' at first 1.5, graph 0.97 center
set label 2 'round_robin' at first 6.5, graph 0.97 center
plot csv skip 1 using (xpos($0)):(0):(xpos($0)-bw):(xpos($0)+bw):(0):4:xtic(label(strcol(2), strcol(3))) with boxxyerror lc rgb 'black' fs pattern 5 title 'compute', \
     '' skip 1 using (xpos($0)):(0):(xpos($0)-bw):(xpos($0)+bw):4:($4+$5) with boxxyerror lc rgb 'black' fs pattern 0 title 'network', \
     '' skip 1 using (xpos($0)):($4+$5):(sprintf('%.2f GB', $6)) with labels offset 0,0.7 font ',7' notitle
