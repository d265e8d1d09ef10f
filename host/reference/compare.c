/* Device results against the reference, element by element. */
#include "host/reference/reference.h"

#include <math.h>

void porta_reference_compare(const double *got, const double *want, int64_t count, double abs_tol,
                             double rel_tol, porta_comparison *out)
{
    *out = (porta_comparison){.worst = -1};
    double largest = 0;
    for (int64_t i = 0; i < count; i++)
        if (isfinite(want[i]) && fabs(want[i]) > largest) largest = fabs(want[i]);
    double worst_excess = -INFINITY;
    for (int64_t i = 0; i < count; i++) {
        double g = got[i], w = want[i];
        double error;
        bool ok;
        if (isnan(g) && isnan(w)) {
            /* the math itself is undefined there (sqrt of a negative): NaN is the right answer */
            error = 0;
            ok = true;
        } else if (isnan(g) || isnan(w)) {
            error = INFINITY;
            ok = false;
            out->nan = true;
        } else if (isinf(w) || isinf(g)) {
            error = g == w ? 0 : INFINITY;
            ok = g == w;
        } else {
            error = fabs(g - w);
            ok = error <= abs_tol + rel_tol * fabs(w);
        }
        if (error > out->max_abs) out->max_abs = error;
        if (!ok) out->failures++;
        double excess = error - (abs_tol + rel_tol * (isfinite(w) ? fabs(w) : 0));
        if (excess > worst_excess) {
            worst_excess = excess;
            out->worst = i;
        }
    }
    out->max_rel = largest > 0 ? out->max_abs / largest : out->max_abs;
}
