#include "threadPool.h"

#define EXPORT(name) __attribute__((export_name(#name)))

#ifdef KERNEL_THREADS
// One job in flight at a time. `work` packs the job's sequence number (high 12 bits) with the
// next unclaimed item (low 20 bits); a thread claims a chunk by compare-and-swap on it, so a
// claim can only succeed for the job whose parameters it read:
//   caller:  close (work = seq'|ITEM_MASK), write parameters, done = 0, open (work = seq'|0)
//   claimer: read work, read parameters, CAS work -> seq|hi; success means no close happened
//            in between, so the parameters were that job's.
// The caller claims chunks too and returns once `done` counts all n items, so the Job (on the
// caller's stack) outlives every use by the helper, and a helper that is late or descheduled
// costs at most one chunk. Both sides spin: a chunk takes microseconds, far less than a futex
// round trip; the helper sleeps in memory.atomic.wait32 only after ~100 us without work.
#define SEQ_SHIFT 20u
#define ITEM_MASK ((1u << SEQ_SHIFT) - 1u)
#define SEQ_OF(w) ((w) >> SEQ_SHIFT)
#define SPINS_BEFORE_SLEEP 200000u

static uint32_t job_ptr, job_n, job_chunk;
static uint32_t work, done, helper_on, helper_sleeping, stop_requested;

#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_SEQ_CST)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_SEQ_CST)

/** Claims and runs chunks of job `seq` until none are left. */
static void work_on(uint32_t seq, uint32_t thread) {
  for (;;) {
    uint32_t w = LOAD(work);
    if (SEQ_OF(w) != seq) return;
    uint32_t n = LOAD(job_n), chunk = LOAD(job_chunk);
    Job *job = (Job *)(uintptr_t)LOAD(job_ptr);
    uint32_t lo = w & ITEM_MASK;
    if (lo >= n) return;
    uint32_t hi = lo + chunk < n ? lo + chunk : n;
    if (!__atomic_compare_exchange_n(&work, &w, (seq << SEQ_SHIFT) | hi, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) continue;
    job->fn(job, lo, hi, thread);
    __atomic_fetch_add(&done, hi - lo, __ATOMIC_SEQ_CST);
  }
}

void parallel_for(Job *job, uint32_t n, uint32_t chunk) {
  job->result[0] = job->result[1] = 0.0;
  if (!LOAD(helper_on) || n <= chunk || n >= ITEM_MASK) {
    job->fn(job, 0, n, 0);
    return;
  }
  uint32_t seq = (SEQ_OF(LOAD(work)) + 1) & ((1u << (32 - SEQ_SHIFT)) - 1u);
  STORE(work, (seq << SEQ_SHIFT) | ITEM_MASK);  // closed while its parameters change
  STORE(job_ptr, (uint32_t)(uintptr_t)job);
  STORE(job_n, n);
  STORE(job_chunk, chunk);
  STORE(done, 0);
  STORE(work, seq << SEQ_SHIFT);  // open
  if (LOAD(helper_sleeping)) __builtin_wasm_memory_atomic_notify((int *)&work, 1);
  work_on(seq, 0);
  while (LOAD(done) != n) {
  }
}

/** The helper thread's whole life: joins each published job until helper_stop(). */
EXPORT(helper_loop) void helper_loop(void) {
  uint32_t last = SEQ_OF(LOAD(work));  // jobs with this number are not ours to join
  uint32_t spins = 0;
  STORE(helper_on, 1);
  while (!LOAD(stop_requested)) {
    uint32_t w = LOAD(work);
    if (SEQ_OF(w) != last) {
      if ((w & ITEM_MASK) == ITEM_MASK) continue;  // being prepared
      work_on(SEQ_OF(w), 1);
      last = SEQ_OF(w);
      spins = 0;
    } else if (++spins >= SPINS_BEFORE_SLEEP) {
      STORE(helper_sleeping, 1);
      // returns at once if `work` moved on since it was read
      __builtin_wasm_memory_atomic_wait32((int *)&work, (int)w, -1);
      STORE(helper_sleeping, 0);
      spins = 0;
    }
  }
  STORE(helper_on, 0);
}

/** Ends helper_loop (called from the caller's thread, never during a parallel_for). */
EXPORT(helper_stop) void helper_stop(void) {
  STORE(stop_requested, 1);
  __builtin_wasm_memory_atomic_notify((int *)&work, 1);
  while (LOAD(helper_on)) {
  }
  STORE(stop_requested, 0);
}

EXPORT(helper_running) uint32_t helper_running(void) { return LOAD(helper_on); }

#else

void parallel_for(Job *job, uint32_t n, uint32_t chunk) {
  job->result[0] = job->result[1] = 0.0;
  job->fn(job, 0, n, 0);
}

#endif
