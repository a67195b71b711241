"""The smallest plan a runner test can measure: one level, one repetition, a second's window."""

from bench.run.plan import Plan

TINY = Plan(
    "test",
    levels=(2,),
    window_s=1,
    warmup_s=0.5,
    repetitions=1,
    cold_starts=0,
    configs=("default",),
    probe_all_configs=False,
    tampered_model_probe=False,
)
