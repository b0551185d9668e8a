"""A fix for Snakemake's scheduler loop, applied by the workflow (``common.smk``).

Snakemake 9's local scheduler, after every pass of its loop, starts a timer that wakes
the loop again one ``--max-jobs-per-timespan`` later (default ``100/1s``), whether or
not the rate limit held any job back. Every finished job also wakes the loop, and
each of those wakes starts a chain of its own, so after N jobs the loop is woken
about N times a second; every pass stats the inputs of every ready job. In the default
study (273 jobs, 2 cores) Snakemake's own process used about half a core by the middle
of the run (upstream: snakemake/snakemake pull request 3744). Here the timer is started
only when the rate limit is reached, which is when a later pass can start a job that
this one could not; the jobs' own ends wake the loop as before.
"""

from __future__ import annotations


def wake_only_for_the_rate_limit() -> bool:
    """Patch ``JobScheduler._schedule_reevalutation`` (Snakemake's spelling) as the
    module docstring says; True if patched now. A Snakemake without that method (a
    later version that reworked it) is left as it is."""
    try:
        from snakemake.scheduling.job_scheduler import JobScheduler
    except ImportError:
        return False
    original = getattr(JobScheduler, "_schedule_reevalutation", None)
    if original is None or getattr(original, "svibench_patched", False):
        return False

    def schedule_reevaluation(self, delay):
        limiter = getattr(self, "job_rate_limiter", None)
        if limiter is not None and delay == limiter.timespan and limiter.get_free_jobs() > 0:
            return  # the limit held nothing back: a job's end wakes the loop
        original(self, delay)

    schedule_reevaluation.svibench_patched = True
    JobScheduler._schedule_reevalutation = schedule_reevaluation
    return True
