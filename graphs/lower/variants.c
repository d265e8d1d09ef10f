/* Which kernel variant a rule uses: forced (PORTA_VARIANTS, conformance), tuned (porta tune's
 * winners for this device and shape), or the rule's own pick; each decision lands in the plan so
 * that `porta plan` shows it and porta tune knows what to measure. */
#include "graphs/lower/lower.h"

#include <stdio.h>
#include <string.h>

static int index_of(const char *name, size_t length, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == length && !strncmp(name, names[i], length)) return i;
    return -1;
}

/* "family=variant,...": the variant named for `family`, or -1. */
static int forced_variant(const char *list, const char *family, const char *const *names, int n)
{
    size_t family_length = strlen(family);
    for (const char *p = list; p && *p;) {
        size_t item = strcspn(p, ",");
        const char *eq = memchr(p, '=', item);
        if (eq && (size_t)(eq - p) == family_length && !strncmp(p, family, family_length)) {
            int found = index_of(eq + 1, item - (size_t)(eq + 1 - p), names, n);
            if (found >= 0) return found;
        }
        p += item;
        if (*p == ',') p++;
    }
    return -1;
}

/* Lines "family key variant": the variant stored for (family, key), or -1. */
static int tuned_variant(const char *lines, const char *family, const char *key,
                         const char *const *names, int n)
{
    for (const char *p = lines; p && *p;) {
        size_t length = strcspn(p, "\n");
        char f[16], k[64], v[32];
        char line[128];
        if (length < sizeof line) {
            memcpy(line, p, length);
            line[length] = '\0';
            if (sscanf(line, "%15s %63s %31s", f, k, v) == 3 && !strcmp(f, family) &&
                !strcmp(k, key)) {
                int found = index_of(v, strlen(v), names, n);
                if (found >= 0) return found;
            }
        }
        p += length;
        if (*p == '\n') p++;
    }
    return -1;
}

int porta_lower_variant(porta_lower *lower, const char *family, const char *key,
                        const char *const *names, int n, int chosen)
{
    const porta_plan_limits *limits = porta_lower_limits(lower);
    porta_plan_choice choice = {.names = names, .n_names = n, .rule = chosen, .variant = chosen};
    snprintf(choice.family, sizeof choice.family, "%s", family);
    snprintf(choice.key, sizeof choice.key, "%s", key);
    int tuned = tuned_variant(limits->tuned, family, key, names, n);
    if (tuned >= 0) {
        choice.variant = tuned;
        choice.source = PORTA_PLAN_CHOICE_TUNED;
    }
    int forced = forced_variant(limits->variants, family, names, n);
    if (forced >= 0) {
        choice.variant = forced;
        choice.source = PORTA_PLAN_CHOICE_FORCED;
    }
    porta_lower_record_choice(lower, &choice);
    return choice.variant;
}
