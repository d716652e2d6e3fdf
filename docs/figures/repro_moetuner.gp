# repro_moetuner.gp - docs/moe-steps.md, reproduction (c): MoETuner's
# placement against contiguous on the real Mixtral-8x7B trace, step time
# saved (%), measured (scenarios/moetuner_repro.ini), beside the paper's
# claims. `gnuplot repro_moetuner.gp` in docs/figures writes
# repro_moetuner.png.
set terminal pngcairo dashed noenhanced size 700,420 font 'Sans,10'
set output 'repro_moetuner.png'
set datafile separator ','
set style data histograms
set style histogram clustered gap 1
set style fill pattern border lc rgb 'black'
set ylabel 'step time saved over contiguous (%)'
set yrange [-1:20]
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top left
set xtics nomirror scale 0
$d << EOD
setting,one node (8 GPUs on NVLink),two nodes (2 x 4 GPUs; 100 Gb/s NICs)
MoETuner (paper),9.3,17.5
forward coherent,1.84,5.48
forward standard,0.10,-0.05
training standard,0.07,-0.04
EOD
plot $d using 2:xtic(1) title columnheader(2) lc rgb 'black' fs pattern 0, \
     '' using 3 title columnheader(3) lc rgb 'black' fs pattern 1
