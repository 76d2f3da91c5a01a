#include "util/interrupt.h"

#include <csignal>
#include <thread>

namespace bulkhead {
namespace {
volatile std::sig_atomic_t g_interrupted = 0;
void OnSignal(int) { g_interrupted = 1; }
}  // namespace

void InstallInterruptHandlers() {
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

bool Interrupted() { return g_interrupted != 0; }

bool SleepInterruptible(std::chrono::milliseconds d) {
  constexpr std::chrono::milliseconds kSlice{50};
  auto end = std::chrono::steady_clock::now() + d;
  while (!Interrupted()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= end) {
      return true;
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(end - now, kSlice));
  }
  return false;
}

}  // namespace bulkhead
