// Sharing a loop between the calling thread and one helper thread (a second wasm instance on
// the same shared memory, running helper_loop). Without KERNEL_THREADS, or before a helper has
// started, parallel_for simply runs the whole range on the caller.
#pragma once
#include <stdint.h>

typedef struct Job Job;
/** Runs items [lo, hi) of a job; `thread` is 0 on the caller, 1 on the helper. */
typedef void (*JobFn)(const Job *job, uint32_t lo, uint32_t hi, uint32_t thread);

struct Job {
  JobFn fn;
  uint32_t p[12];     // pointers and counts, meaning fixed by fn
  float f;
  double result[2];   // one partial result per thread
};

/**
 * Runs job->fn over [0, n) in chunks of `chunk` items; with a helper running, both threads claim
 * chunks until none are left, so a helper that is late or descheduled costs at most one chunk.
 * job->result[] starts at 0 and each thread adds to its own slot.
 */
void parallel_for(Job *job, uint32_t n, uint32_t chunk);
