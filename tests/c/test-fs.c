/* SPDX-License-Identifier: MIT */
/* test-fs.c: the fs core's argument checks that the Lua binding never
 * lets through, for C hosts that call the core directly. */
#include "harness.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

TEST(fs_utime_refuses_times_beyond_time_t) {
  loom_loop_t* loop = new_loop();
  char path[] = "/tmp/loom-c-utime-XXXXXX";
  int fd = mkstemp(path);
  loom_fs_t req;

  ASSERT(fd >= 0);
  close(fd);
  /* A double that no time_t holds would make the conversion undefined. */
  ASSERT_EQ(loom_fs_utime(loop, &req, path, 1e300, 0, NULL), LOOM_EINVAL);
  ASSERT_EQ(loom_fs_utime(loop, &req, path, 0, -1e300, NULL), LOOM_EINVAL);
  ASSERT_EQ(loom_fs_futime(loop, &req, 0, 0x1p63, 0, NULL), LOOM_EINVAL);
  /* NOW (infinite) and OMIT (NaN), and ordinary seconds, go through. */
  ASSERT_OK(loom_fs_utime(loop, &req, path, LOOM_FS_UTIME_NOW,
                          LOOM_FS_UTIME_OMIT, NULL));
  loom_fs_req_cleanup(&req);
  ASSERT_OK(loom_fs_utime(loop, &req, path, 1e9, -0x1p62, NULL));
  loom_fs_req_cleanup(&req);
  ASSERT_OK(loom_fs_stat(loop, &req, path, NULL));
  ASSERT_EQ(req.statbuf.atime.sec, 1000000000);
  loom_fs_req_cleanup(&req);
  unlink(path);
  CLOSE_LOOP_OR_FAIL(loop);
  return 0;
}
