#ifndef SKYNET_SPINLOCK_H
#define SKYNET_SPINLOCK_H

/* q points to a struct with a member named lock; each macro ends its own statement */
#define SPIN_INIT(q) spinlock_init(&(q)->lock);
#define SPIN_LOCK(q) spinlock_lock(&(q)->lock);
#define SPIN_UNLOCK(q) spinlock_unlock(&(q)->lock);
#define SPIN_DESTROY(q) spinlock_destroy(&(q)->lock);

#if defined(USE_PTHREAD_LOCK)

#include <pthread.h>

/* a mutex stands in where spinning is undesirable */
struct spinlock {
	pthread_mutex_t lock;
};

static inline void
spinlock_init(struct spinlock *lock) {
	pthread_mutex_init(&lock->lock, NULL);
}

static inline void
spinlock_lock(struct spinlock *lock) {
	pthread_mutex_lock(&lock->lock);
}

static inline int
spinlock_trylock(struct spinlock *lock) {
	return pthread_mutex_trylock(&lock->lock) == 0;
}

static inline void
spinlock_unlock(struct spinlock *lock) {
	pthread_mutex_unlock(&lock->lock);
}

static inline void
spinlock_destroy(struct spinlock *lock) {
	pthread_mutex_destroy(&lock->lock);
}

#elif defined(__STDC_NO_ATOMICS__)

struct spinlock {
	int lock;
};

static inline void
spinlock_init(struct spinlock *lock) {
	lock->lock = 0;
}

static inline void
spinlock_lock(struct spinlock *lock) {
	while (__sync_lock_test_and_set(&lock->lock, 1)) {}
}

static inline int
spinlock_trylock(struct spinlock *lock) {
	return __sync_lock_test_and_set(&lock->lock, 1) == 0;
}

static inline void
spinlock_unlock(struct spinlock *lock) {
	__sync_lock_release(&lock->lock);
}

static inline void
spinlock_destroy(struct spinlock *lock) {
	(void)lock;
}

#else

#include "atomic.h"

#if defined(__x86_64__)
#include <immintrin.h>
/* tell the core we are spinning, so a sibling hyperthread gets the pipeline */
#define atomic_pause_() _mm_pause()
#else
#define atomic_pause_() ((void)0)
#endif

struct spinlock {
	STD_ atomic_int lock;
};

static inline void
spinlock_init(struct spinlock *lock) {
	STD_ atomic_init(&lock->lock, 0);
}

static inline int
spinlock_grab_(struct spinlock *lock) {
	return STD_ atomic_exchange_explicit(&lock->lock, 1, STD_ memory_order_acquire) == 0;
}

static inline int
spinlock_busy_(struct spinlock *lock) {
	return STD_ atomic_load_explicit(&lock->lock, STD_ memory_order_relaxed) != 0;
}

/* spin on a plain load so waiting cores don't keep stealing the cache line */
static inline void
spinlock_lock(struct spinlock *lock) {
	while (!spinlock_grab_(lock)) {
		while (spinlock_busy_(lock))
			atomic_pause_();
	}
}

static inline int
spinlock_trylock(struct spinlock *lock) {
	return !spinlock_busy_(lock) && spinlock_grab_(lock);
}

static inline void
spinlock_unlock(struct spinlock *lock) {
	STD_ atomic_store_explicit(&lock->lock, 0, STD_ memory_order_release);
}

static inline void
spinlock_destroy(struct spinlock *lock) {
	(void)lock;
}

#endif

#endif
