"""The scheduler-loop fix: a wake-up timer only when the rate limit holds jobs back."""

import threading

from snakemake.scheduling.job_scheduler import JobRateLimiter, JobScheduler
from snakemake.settings.types import MaxJobsPerTimespan

from svibench.snakemake_patches import wake_only_for_the_rate_limit


class Loop:
    """What ``_schedule_reevalutation`` uses of a JobScheduler: its limiter and the
    semaphore that wakes its loop."""

    def __init__(self, limit: str):
        count, span = limit.split("/")
        self.job_rate_limiter = JobRateLimiter(MaxJobsPerTimespan(int(count), span))
        self._open_jobs = threading.Semaphore(0)

    def woken_within(self, seconds: float) -> bool:
        return self._open_jobs.acquire(timeout=seconds)


def test_the_loop_is_woken_by_a_timer_only_when_the_rate_limit_is_reached():
    wake_only_for_the_rate_limit()
    assert wake_only_for_the_rate_limit() is False  # patched once
    loop = Loop("3/1s")
    JobScheduler._schedule_reevalutation(loop, loop.job_rate_limiter.timespan)
    assert not loop.woken_within(1.5)  # free slots: no timer
    loop.job_rate_limiter.register_jobs(3)
    JobScheduler._schedule_reevalutation(loop, loop.job_rate_limiter.timespan)
    assert loop.woken_within(3)  # the limit reached: woken when it may start more
    JobScheduler._schedule_reevalutation(loop, 0.2)  # another wait (queue input): kept
    assert loop.woken_within(3)
