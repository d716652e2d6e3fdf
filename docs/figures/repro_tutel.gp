# repro_tutel.gp - docs/moe-steps.md, reproduction (a): Tutel's pipelining
# degree C on 256 GPUs (scenarios/tutel_chunks.ini at all 8 layers), measured:
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
set ylabel 'ms per step (8 layers)'
set yrange [0:190]
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set key top right
$d << EOD
C,step,compute,exposed
1,180.096,117.269,62.827
2,148.928,117.426,31.502
4,133.627,117.788,15.839
8,126.631,118.662,7.969
16,124.047,120.001,4.047
32,123.911,121.817,2.094
EOD
plot $d skip 1 using 1:2 with linespoints lt 1 lc rgb 'black' pt 7 title 'step', \
     '' skip 1 using 1:3 with linespoints dt 2 lc rgb 'black' pt 5 title 'compute', \
     '' skip 1 using 1:4 with linespoints dt 3 lc rgb 'black' pt 9 title 'exposed communication'
