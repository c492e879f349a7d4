"""The evaluation harness: versioned suites, policies (baselines and models), the runner, results."""
