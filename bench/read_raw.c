/* bench/read_raw.c FILE: the floor for the read workload under an API
 * that returns each chunk as a new string. It reads FILE in 64 KiB
 * pread calls and copies every chunk into freshly allocated memory, as
 * making a Lua string from the read buffer does, with no event loop, no
 * request and no Lua. Prints the seconds. `cat` has no second copy. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

int main(int argc, char** argv) {
  struct timespec a, b;
  char* buf = malloc(CHUNK);
  unsigned long checksum = 0;
  off_t off = 0;
  ssize_t n;
  int fd;

  if (argc < 2 || buf == NULL || (fd = open(argv[1], O_RDONLY)) < 0)
    return 2;
  clock_gettime(CLOCK_MONOTONIC, &a);
  while ((n = pread(fd, buf, CHUNK, off)) > 0) {
    char* copy = malloc((size_t) n);
    if (copy == NULL)
      return 2;
    memcpy(copy, buf, (size_t) n);
    checksum += (unsigned char) copy[n - 1];
    free(copy);
    off += n;
  }
  clock_gettime(CLOCK_MONOTONIC, &b);
  if (n < 0)
    return 2;
  printf("%.4f\n", (double) (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
  /* The sum keeps the copies from being optimised away. */
  return checksum == 1 ? 3 : 0;
}
