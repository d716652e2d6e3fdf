# style.gp - what every figure of `moesim plot` shares: the size, the fonts,
# the terminals and the black-and-white line types. moesim copies this file
# into DIR/KIND.gp after the figure's variables (name, size, note, ...) and
# before plots/KIND.gp.
#
# Sizes are for print: `column` is 3.3 in wide (one column of a two-column
# paper) with 8 pt text, `page` 7 in wide with 9 pt text, so that the PDF is
# placed at 100 % and its labels print at those sizes. (cairo sizes fonts for
# 96 dpi: fontscale 0.75 makes a PDF's 8 pt really 8 pt.) The PNG is the same
# figure at 200 dpi.

set datafile separator ','
if (size eq 'page') { fig_w = 7.0; fig_h = 2.8; fig_pt = 9 } else { fig_w = 3.3; fig_h = 2.3; fig_pt = 8 }
fig_dpi = 200
small_font = sprintf(',%d', fig_pt - 1)
png_terminal = sprintf("set terminal pngcairo dashed noenhanced size %d,%d font 'Sans,%d' fontscale %.4f linewidth 1.4", int(fig_w * fig_dpi), int(fig_h * fig_dpi), fig_pt, fig_dpi / 96.0)
pdf_terminal = sprintf("set terminal pdfcairo dashed noenhanced size %.2fin,%.2fin font 'Sans,%d' fontscale 0.75", fig_w, fig_h, fig_pt)
# A figure starts with `@png_out`, draws, and ends with `@pdf_out`.
png_out = "eval png_terminal; set output name.'.png'"
pdf_out = "eval pdf_terminal; set output name.'.pdf'; replot; unset output"

# a round tick step for about n ticks over span
nice_step(span, n) = (nice_r = span / n, nice_m = 10 ** floor(log10(nice_r)), nice_f = nice_r / nice_m, (nice_f < 1.5 ? 1 : nice_f < 3.5 ? 2 : nice_f < 7.5 ? 5 : 10) * nice_m)
xticks_wanted = size eq 'page' ? 8 : 4

set border lw 1
set grid ytics lc rgb '#bbbbbb' lw 0.5 dt 3
set tics scale 0.6
# the note (what the figure filtered and pooled, note_lines lines) in small
# type at the bottom: a figure sets its x label to `xlabel . note_room`,
# whose blank lines make gnuplot leave the note room under the axis
note_room = ''
do for [i=1:note_lines] { note_room = note_room . "\n" }
if (note_lines > 0) {
    set label 1000 note at screen 0.5, screen 0 offset 0, character (0.9 * note_lines - 0.2) center front font small_font
}

# Tick labels under nbars bars, the longest maxlabel characters: level
# when they fit, else upright in small type, with the bottom laid out here
# (gnuplot's own estimate of upright labels leaves gaps or overlaps): from
# the bottom, the note, the x label, the tick labels. `eval bar_xtics`
# after setting nbars and maxlabel and the x label.
bar_xtics = "if (maxlabel * fig_pt * 0.6 / 72.0 > 0.72 * fig_w / nbars) { eval bar_upright }"
bar_upright = "set xtics rotate by 90 right font small_font; \
  note_in = (note_lines * (fig_pt - 1) * 1.2 + 3) / 72.0; \
  xlabel_in = fig_pt * 1.4 / 72.0; \
  ticks_in = (maxlabel * (fig_pt - 1) * 0.6 + 8) / 72.0; \
  set bmargin at screen (note_in + xlabel_in + ticks_in) / fig_h; \
  set label 1001 xlabel at graph 0.5, screen (note_in + 0.5 * xlabel_in) / fig_h center; \
  unset xlabel"

# Twelve line types, each with its own dash and point, in black and white
# (PLOT_MAX_SERIES in plots/plot.h); dt 3 (dotted) is left for reference lines.
set linetype 1 lc rgb 'black' lw 1.5 dt solid pt 1 ps 0.7
set linetype 2 lc rgb 'black' lw 1.5 dt (10,5) pt 2 ps 0.7
set linetype 3 lc rgb 'black' lw 1.5 dt (2,4) pt 4 ps 0.7
set linetype 4 lc rgb 'black' lw 1.5 dt (14,4,3,4) pt 6 ps 0.7
set linetype 5 lc rgb 'black' lw 1.5 dt (22,6) pt 8 ps 0.7
set linetype 6 lc rgb 'black' lw 1.5 dt (8,3,2,3,2,3) pt 10 ps 0.7
set linetype 7 lc rgb 'black' lw 1.5 dt (1,3) pt 12 ps 0.7
set linetype 8 lc rgb 'black' lw 1.5 dt (14,3,2,3,2,3,2,3) pt 5 ps 0.55
set linetype 9 lc rgb 'black' lw 1.5 dt (5,2) pt 7 ps 0.55
set linetype 10 lc rgb 'black' lw 1.5 dt (20,3,6,3) pt 9 ps 0.55
set linetype 11 lc rgb 'black' lw 1.5 dt (2,2,10,2) pt 11 ps 0.55
set linetype 12 lc rgb 'black' lw 1.5 dt (10,2,2,2,2,2) pt 13 ps 0.55
# fill patterns of bars, in the order series use them (cairo has 0-7)
array bar_pattern[8] = [4, 1, 0, 5, 2, 6, 7, 3]
