"""Test tooling shared by the suites and the benchmarks: AppTest helpers, the browser and server start-up, the
crawler, the fuzz generators, hostile files, the runner contract and the PyTorch oracle. Never imported by cnnviz."""
