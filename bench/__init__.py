"""The kates benchmark suite (B0-B7 of BENCHMARKS.md): kates against kubectl and the official `kubernetes` Python
client, side by side, on a local control plane started for the run.

`python -m bench.run` starts the control plane, creates the fixtures (untimed), runs every benchmark for kates and
each peer alternating over several rounds, prints one table (kates figure, peer figure, ratio, target, met/missed)
and writes `bench/results.json`. Every kates run and every peer run is a child process of its own, so client
CPU-seconds and peak RSS come from that child's rusage; the API server and etcd share the machine, which is why
client CPU-seconds are reported beside wall time.

Modules: `harness` (measuring child processes), `fixtures` (objects and namespaces), `report` (rows, table, JSON),
`scale` (the cost per object at each size of a scale run), `results_md` (bench/RESULTS.md), `clientgo` (building the
client-go peer), one module per benchmark (`b0_startup` ... `b7_resume`), and `peers/` (the small programs run as
children: Python scripts, and `peers/clientgo`, a Go program on client-go).
"""
