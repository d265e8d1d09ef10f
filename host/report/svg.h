/* Bar charts as SVG, drawn by porta itself: grouped bars (one group per category, one bar per
 * series) or stacked bars (one bar per category, one segment per series), on a linear or a log
 * scale. Every bar is a <rect class="bar"> with data-category, data-series and data-value (the
 * value it stands for) and a <title> for the browser's tooltip; axis ticks are <text
 * class="tick"> with data-value, at the height of their value, so a reader of the file can check
 * that the bars match the axis. */
#ifndef PORTA_HOST_REPORT_SVG_H
#define PORTA_HOST_REPORT_SVG_H

#include <stdbool.h>
#include <stdio.h>

typedef struct svg_chart {
    const char *title;
    const char *y_label;                    /* the value's unit, e.g. "GFLOP/s" */
    int n_categories, n_series;
    const char *const *categories;
    const char *const *series;
    const double *values;                   /* [category * n_series + series]; NAN: no bar */
    bool stacked, log_scale;
    const char *note;                       /* a line under the title, or NULL */
} svg_chart;

/* Writes the chart as a standalone SVG document. */
void svg_chart_write(FILE *out, const svg_chart *chart);

#endif
