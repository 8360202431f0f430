"""`make bench`: the performance report of issue #6, measured in one run.

    make bench                    # print the report, write .bench/benchmarks.md (git-ignored), exit 0
    make bench-record             # the same, and write the committed docs/benchmarks.md
    make bench ARGS=--quick       # fewer rounds (3), shorter load test (~3 min in all)
    make bench-check              # the same, exit 1 when any row is over budget

What it measures (methodology: docs/performance.md):

1. the deployed artifacts: a real `sam build` (arm64) + scripts/postbuild.py; the layer's size;
2. cold start of every API function (fresh process: import + its first sample event, as built for
   this machine) against B0 and B1 generated from the AWS requests that event really makes
   (contenders.py), with calibration rows, interleaved round by round (measure.py, child.py);
3. the warm path of each function's first sample event against a bare FastAPI + Mangum route
   making the same requests (or a hello route when it makes none);
4. peak RSS of each function's process after 1,000 requests;
5. the DynamoDB requests of every sample event whose route exists, against the minimum its access
   patterns allow (requests.py);
6. the queue worker: cold and warm invocations of its email and order jobs, one record and a batch
   of 10, their AWS requests and what they log (jobs.py; cli.py ``Bench._worker``);
7. load: concurrent requests through the local cloud on loopback (load.py);
8. the cost: per million API requests and per million jobs, this run's figures priced with the
   public price list (cost.py).

The emulator, the functions' environments and the sample events all come from template.yaml and
events/ (stack.py), so the bench follows the routes as they land.
"""
