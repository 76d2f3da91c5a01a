// Cooperative interruption: SIGINT/SIGTERM set a flag that long waits check,
// so a Ctrl-C unwinds normally and every destructor (token cleanup, locks)
// runs.
#ifndef BULKHEAD_UTIL_INTERRUPT_H_
#define BULKHEAD_UTIL_INTERRUPT_H_

#include <chrono>

namespace bulkhead {

// InstallInterruptHandlers routes SIGINT and SIGTERM to the flag.
void InstallInterruptHandlers();

// Interrupted reports whether SIGINT or SIGTERM arrived.
bool Interrupted();

// SleepInterruptible sleeps for `d` in short slices; returns false if
// interrupted before the time was up.
bool SleepInterruptible(std::chrono::milliseconds d);

}  // namespace bulkhead

#endif  // BULKHEAD_UTIL_INTERRUPT_H_
