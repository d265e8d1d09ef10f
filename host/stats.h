/* Timing for the commands that measure: a monotonic clock and the summary of repeated
 * measurements. */
#ifndef PORTA_HOST_STATS_H
#define PORTA_HOST_STATS_H

typedef struct host_stats {
    double min, median, max;
} host_stats;

/* Milliseconds on a monotonic clock (an arbitrary origin: only differences mean anything). */
double host_now_ms(void);

/* min, median (the mean of the two middle values for an even n) and max of n >= 1 values;
 * all zero for n < 1. `values` is left as it was. */
host_stats host_stats_of(const double *values, int n);

#endif
