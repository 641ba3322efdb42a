"""`make bench`: run every benchmark module and print its figures.

The worker benchmark runs a short 20,000 deadlines here (MCU_BENCH_WORKER_COUNT overrides);
the full figure is `python -m bench.worker_fire --count 100000`.

The analytics benchmark needs its own generated database (10 million messages take about half an
hour to make), so it is run by hand: `python -m bench.analytics_data --messages 1000000` (or
10000000), then `python -m bench.analytics`.
"""

from __future__ import annotations

import os

from bench import http_intake, import_copy, rules_eval, tenant_loading, worker_fire

for module in (tenant_loading, rules_eval, http_intake, import_copy):
    module.main()
worker_fire.main(int(os.environ.get("MCU_BENCH_WORKER_COUNT", worker_fire.QUICK)))
