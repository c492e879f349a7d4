"""The games inside other frameworks: TRL, OpenEnv and inspect_ai.

Each module adapts g1bench to one framework and imports that framework only when used; install its extra:

* :mod:`.trl` (``g1bench[training]``): one environment class per game for TRL's
  ``GRPOTrainer(environment_factory=...)``: the moves are typed, documented tools that return the new frame and one
  line of feedback; a dict factory mixes games in one run; a dataset of start states for it.
* :mod:`.openenv` (``g1bench[openenv]``): every game and preset behind an OpenEnv server (``g1bench serve``) and its
  client: PNG frames in the observations, the perception ground truth on request, snapshots through ``state()``.
* :mod:`.inspect` (``g1bench[inspect]``): inspect_ai tasks: a suite as single-step samples (the paper protocol) and a
  multi-turn variant where the model plays through a tool that returns the frame.

All of them play through :mod:`.play`, which is framework-free: the same start states, rules, invalid-answer rule,
scores and feedback line as ``g1bench eval``, so the same answers give the same results in every framework
(``tests/test_integrations_parity.py``).
"""
