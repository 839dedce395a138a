// Names the calling thread (Linux: at most 15 characters), so that top -H, perf and gdb tell the
// hub's threads apart: I/O, inbox writer and processor all share one process.
#pragma once

#include <pthread.h>

namespace cdphub {

inline void name_this_thread(const char* name) {
    // Best effort: a name that does not fit is simply not set.
    (void)::pthread_setname_np(::pthread_self(), name);
}

}  // namespace cdphub
