// The two libc functions clang may emit calls to (loop idioms become memset/memcpy) when
// building with -nostdlib. Byte loops are enough: the kernels never copy large blocks.
#include <stddef.h>

void *memset(void *dst, int value, size_t n) {
  unsigned char *d = dst;
  // volatile-free but written so clang does not turn this loop back into a memset call
  for (size_t i = 0; i < n; i++) {
    d[i] = (unsigned char)value;
    __asm__ volatile("" ::: "memory");
  }
  return dst;
}

void *memcpy(void *dst, const void *src, size_t n) {
  unsigned char *d = dst;
  const unsigned char *s = src;
  for (size_t i = 0; i < n; i++) {
    d[i] = s[i];
    __asm__ volatile("" ::: "memory");
  }
  return dst;
}
