/* SVG bar charts (svg.h). Sizes are computed from the text they hold, with an average glyph
 * width of CHAR_W pixels at FONT_PX, so that labels neither overlap nor leave the picture. */
#include "host/report/svg.h"

#include <math.h>
#include <string.h>

#define FONT_PX 12
#define CHAR_W 7.0
#define PLOT_H 280.0
#define TITLE_PX 16
#define LEGEND_ROW 18.0
#define SWATCH 12.0
#define RIGHT 24.0

/* Colours told apart by most people, also when printed in grey. */
static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define N_COLOURS (int)(sizeof palette / sizeof palette[0])

typedef struct layout {
    double left, top, plot_w, plot_h, bottom, width, height;
    double group_w, bar_w;
    double widest_tick;             /* the longest tick label's width */
    bool rotate;                    /* category labels slanted */
    double lo, hi;                  /* the axis: values, or decades for a log scale */
} layout;

static void text(FILE *out, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        default: fputc(*s, out);
        }
    }
}

static double text_w(const char *s)
{
    return CHAR_W * (double)strlen(s);
}

static double value_at(const svg_chart *c, int category, int series)
{
    return c->values[category * c->n_series + series];
}

/* The largest bar (a stack's total when stacked) and the smallest positive value. */
static void extent(const svg_chart *c, double *largest, double *smallest_positive)
{
    *largest = 0;
    *smallest_positive = INFINITY;
    for (int k = 0; k < c->n_categories; k++) {
        double total = 0;
        for (int s = 0; s < c->n_series; s++) {
            double v = value_at(c, k, s);
            if (isnan(v) || v < 0) continue;
            if (v > 0 && v < *smallest_positive) *smallest_positive = v;
            total = c->stacked ? total + v : (v > total ? v : total);
        }
        if (total > *largest) *largest = total;
    }
}

/* A step of 1, 2 or 5 times a power of ten near span / 5. */
static double nice_step(double span)
{
    double rough = span / 5, power = pow(10, floor(log10(rough))), f = rough / power;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
}

static void axis_range(const svg_chart *c, layout *l, double *step)
{
    double largest, smallest;
    extent(c, &largest, &smallest);
    if (c->log_scale) {
        if (!isfinite(smallest)) smallest = largest = 1;
        /* at least half a decade under the smallest bar, so that it shows */
        l->lo = floor(log10(smallest));
        if (log10(smallest) - l->lo < 0.5) l->lo -= 1;
        l->hi = ceil(log10(largest));
        if (l->hi <= l->lo) l->hi = l->lo + 1;
        *step = 1;
        return;
    }
    if (largest <= 0) largest = 1;
    *step = nice_step(largest);
    l->lo = 0;
    l->hi = ceil(largest / *step - 1e-9) * *step;
}

static double y_of(const svg_chart *c, const layout *l, double v)
{
    double position;
    if (c->log_scale)
        position = v > 0 ? (log10(v) - l->lo) / (l->hi - l->lo) : 0;
    else
        position = (v - l->lo) / (l->hi - l->lo);
    if (position < 0) position = 0;
    return l->top + l->plot_h * (1 - position);
}

static void tick_label(char *out, size_t size, const svg_chart *c, double v)
{
    if (c->log_scale)
        snprintf(out, size, "1e%d", (int)lround(log10(v)));
    else
        snprintf(out, size, "%g", v);
}

/* The legend's rows when items are laid left to right within `width`. */
static int legend_rows(const svg_chart *c, double width)
{
    int rows = c->n_series ? 1 : 0;
    double x = 0;
    for (int s = 0; s < c->n_series; s++) {
        double w = SWATCH + 6 + text_w(c->series[s]) + 18;
        if (x > 0 && x + w > width) {
            rows++;
            x = 0;
        }
        x += w;
    }
    return rows;
}

static layout plan(const svg_chart *c, double *step)
{
    layout l;
    memset(&l, 0, sizeof l);
    axis_range(c, &l, step);
    double widest_tick = 0;
    for (double v = c->log_scale ? l.lo : 0; v <= l.hi + 1e-9 * (c->log_scale ? 1 : *step);
         v += c->log_scale ? 1 : *step) {
        char label[32];
        tick_label(label, sizeof label, c, c->log_scale ? pow(10, v) : v);
        if (text_w(label) > widest_tick) widest_tick = text_w(label);
    }
    l.widest_tick = widest_tick;
    l.bar_w = c->stacked ? 40 : c->n_series > 6 ? 10 : 16;
    l.group_w = c->stacked ? l.bar_w + 28 : c->n_series * l.bar_w + 20;
    if (c->n_categories > 0 && l.group_w * c->n_categories < 240) l.group_w = 240.0 / c->n_categories;
    double longest = 0;
    for (int k = 0; k < c->n_categories; k++)
        if (text_w(c->categories[k]) > longest) longest = text_w(c->categories[k]);
    l.rotate = longest > l.group_w - 4;
    /* slanted at 35 degrees, a label reaches cos 35 of its width left of its bar */
    double slant_left = l.rotate ? longest * 0.82 - l.group_w / 2 : 0;
    l.left = 40 + widest_tick;
    if (slant_left + 8 > l.left) l.left = slant_left + 8;
    l.plot_w = c->n_categories > 0 ? c->n_categories * l.group_w : 240;
    double title_w = text_w(c->title) * TITLE_PX / FONT_PX;
    double note_w = c->note ? text_w(c->note) : 0;
    l.width = l.left + l.plot_w + RIGHT;
    if (l.width < title_w + 40) l.width = title_w + 40;
    if (l.width < note_w + 40) l.width = note_w + 40;
    l.top = 36 + (c->note ? 18 : 0) + legend_rows(c, l.width - 40) * LEGEND_ROW + 12;
    l.plot_h = PLOT_H;
    l.bottom = l.rotate ? 20 + longest * 0.58 + 8 : 32;
    l.height = l.top + l.plot_h + l.bottom;
    return l;
}

static void legend(FILE *out, const svg_chart *c, const layout *l)
{
    double x = 20, y = 36 + (c->note ? 18 : 0);
    fprintf(out, "<g class=\"legend\">\n");
    for (int s = 0; s < c->n_series; s++) {
        double w = SWATCH + 6 + text_w(c->series[s]) + 18;
        if (x > 20 && x + w > l->width - 20) {
            x = 20;
            y += LEGEND_ROW;
        }
        fprintf(out, "<rect class=\"swatch\" x=\"%.1f\" y=\"%.1f\" width=\"%g\" height=\"%g\" "
                     "fill=\"%s\"/>", x, y, SWATCH, SWATCH, palette[s % N_COLOURS]);
        fprintf(out, "<text class=\"series\" x=\"%.1f\" y=\"%.1f\">", x + SWATCH + 6, y + 10);
        text(out, c->series[s]);
        fprintf(out, "</text>\n");
        x += w;
    }
    fprintf(out, "</g>\n");
}

static void axes(FILE *out, const svg_chart *c, const layout *l, double step)
{
    double x0 = l->left, x1 = l->left + l->plot_w;
    fprintf(out, "<g class=\"axis\">\n");
    if (c->log_scale)   /* faint lines at 2..9 times each decade */
        for (double d = l->lo; d < l->hi; d++)
            for (int m = 2; m <= 9; m++) {
                double y = y_of(c, l, m * pow(10, d));
                fprintf(out, "<line class=\"minor\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.3f\" "
                             "y2=\"%.3f\" stroke=\"#eeeeee\"/>\n", x0, x1, y, y);
            }
    for (double v = l->lo; v <= l->hi + 1e-9 * step; v += step) {
        double value = c->log_scale ? pow(10, v) : v;
        double y = y_of(c, l, value);
        char label[32];
        tick_label(label, sizeof label, c, value);
        fprintf(out, "<line class=\"grid\" data-value=\"%.17g\" x1=\"%.1f\" x2=\"%.1f\" "
                     "y1=\"%.3f\" y2=\"%.3f\" stroke=\"#d0d0d0\"/>\n", value, x0 - 4, x1, y, y);
        fprintf(out, "<text class=\"tick\" data-value=\"%.17g\" x=\"%.1f\" y=\"%.1f\" "
                     "text-anchor=\"end\">%s</text>\n", value, x0 - 8, y + 4, label);
    }
    double bottom = l->top + l->plot_h;
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0,
            x0, l->top, bottom);
    fprintf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", x0,
            x1, bottom, bottom);
    fprintf(out, "<text class=\"unit\" transform=\"translate(%.1f,%.1f) rotate(-90)\" "
                 "text-anchor=\"middle\">", x0 - l->widest_tick - 18, l->top + l->plot_h / 2);
    text(out, c->y_label);
    fprintf(out, "%s</text>\n", c->log_scale ? " (log scale)" : "");
    for (int k = 0; k < c->n_categories; k++) {
        double x = l->left + (k + 0.5) * l->group_w, y = bottom + 16;
        if (l->rotate)
            fprintf(out, "<text class=\"category\" text-anchor=\"end\" "
                         "transform=\"translate(%.1f,%.1f) rotate(-35)\">", x + 4, y - 4);
        else
            fprintf(out, "<text class=\"category\" text-anchor=\"middle\" x=\"%.1f\" "
                         "y=\"%.1f\">", x, y);
        text(out, c->categories[k]);
        fprintf(out, "</text>\n");
    }
    fprintf(out, "</g>\n");
}

static void bar(FILE *out, const svg_chart *c, int k, int s, double x, double w, double y_top,
                double y_bottom, double value)
{
    fprintf(out, "<rect class=\"bar\" data-category=\"");
    text(out, c->categories[k]);
    fprintf(out, "\" data-series=\"");
    text(out, c->series[s]);
    fprintf(out, "\" data-value=\"%.17g\" x=\"%.3f\" y=\"%.3f\" width=\"%.3f\" height=\"%.3f\" "
                 "fill=\"%s\"><title>", value, x, y_top, w, y_bottom - y_top,
            palette[s % N_COLOURS]);
    text(out, c->series[s]);
    fprintf(out, ", ");
    text(out, c->categories[k]);
    fprintf(out, ": %.4g ", value);
    text(out, c->y_label);
    fprintf(out, "</title></rect>\n");
}

static void bars(FILE *out, const svg_chart *c, const layout *l)
{
    double base = l->top + l->plot_h;
    fprintf(out, "<g class=\"bars\">\n");
    for (int k = 0; k < c->n_categories; k++) {
        double group_x = l->left + k * l->group_w, total = 0;
        for (int s = 0; s < c->n_series; s++) {
            double v = value_at(c, k, s);
            if (isnan(v) || v < 0) continue;
            if (c->stacked) {
                double x = group_x + (l->group_w - l->bar_w) / 2;
                bar(out, c, k, s, x, l->bar_w, y_of(c, l, total + v), y_of(c, l, total), v);
                total += v;
                continue;
            }
            double x = group_x + (l->group_w - c->n_series * l->bar_w) / 2 + s * l->bar_w;
            bar(out, c, k, s, x + 1, l->bar_w - 2, y_of(c, l, v), base, v);
            if (v == 0)     /* no height to see: say it */
                fprintf(out, "<text class=\"zero\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                             "font-size=\"10\">0</text>\n", x + l->bar_w / 2, base - 3);
        }
        if (c->stacked && total > 0)    /* the whole, since a short stack's parts are unreadable */
            fprintf(out, "<text class=\"total\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
                         "font-size=\"11\">%.4g</text>\n", group_x + l->group_w / 2,
                    y_of(c, l, total) - 4, total);
    }
    fprintf(out, "</g>\n");
}

void svg_chart_write(FILE *out, const svg_chart *c)
{
    double step;
    layout l = plan(c, &step);
    fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                 "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"%d\" "
                 "data-scale=\"%s\" data-layout=\"%s\">\n",
            l.width, l.height, l.width, l.height, FONT_PX, c->log_scale ? "log" : "linear",
            c->stacked ? "stacked" : "grouped");
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(out, "<text class=\"title\" x=\"20\" y=\"24\" font-size=\"%d\" font-weight=\"bold\">",
            TITLE_PX);
    text(out, c->title);
    fprintf(out, "</text>\n");
    if (c->note) {
        fprintf(out, "<text class=\"note\" x=\"20\" y=\"42\" fill=\"#555\">");
        text(out, c->note);
        fprintf(out, "</text>\n");
    }
    legend(out, c, &l);
    axes(out, c, &l, step);
    bars(out, c, &l);
    fprintf(out, "</svg>\n");
}
