# repro_tutel.gp - docs/moe-steps.md, reproduction (a): Tutel's pipelining
# degree C on 256 GPUs (scenarios/tutel_chunks.ini, 2 layers), measured:
# the step, its compute (the time compute tasks run) and its exposed
# communication, ms, against C. `gnuplot repro_tutel.gp` in docs/figures
# writes repro_tutel.png.
set terminal pngcairo dashed noenhanced size 700,420 font 'Sans,10'
set output 'repro_tutel.png'
set datafile separator ','
set logscale x 2
set xrange [0.8:40]
set xtics (1, 2, 4, 8, 16, 32)
set xlabel 'pipelining degree C (workload.chunks)'
set ylabel 'ms per step (2 layers)'
set yrange [0:45]
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top right
$d << EOD
C,step,compute,exposed
1,42.563,27.720,14.843
2,35.172,27.738,7.434
4,31.535,27.797,3.738
8,30.115,28.215,1.900
16,29.507,28.539,0.969
32,29.489,28.986,0.503
EOD
plot $d skip 1 using 1:2 with linespoints lt 1 lc rgb 'black' pt 7 title 'step', \
     '' skip 1 using 1:3 with linespoints dt 2 lc rgb 'black' pt 5 title 'compute', \
     '' skip 1 using 1:4 with linespoints dt 3 lc rgb 'black' pt 9 title 'exposed communication'
