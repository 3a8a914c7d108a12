/* bench_broker.c — placeholder until its dependencies land. */
#include "bench.h"

void bench_broker(const bench_opts *opts, bench_report *report)
{
    bench_row *row = bench_report_add(report, "broker", "-");
    (void)opts;
    if (row != NULL)
        bench_row_skip(row, "skipped: not written yet");
}
