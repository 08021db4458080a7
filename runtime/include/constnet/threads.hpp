// How generated code runs.
//
// Threads: one Halide thread pool serves every network of a program. Its size
// is taken from the environment variable HL_NUM_THREADS when the pool starts
// (default: the number of cores); set_num_threads changes it at run time by
// stopping the pool, which the next call restarts with the new size: call it
// when no generated code is running.
//
// Denormals: generated code runs with subnormal floats flushed to zero (the
// x86 MXCSR flags FTZ and DAZ, set for the duration of each call and each
// parallel task, then restored: the caller's floating-point mode is not
// changed). Subnormal arithmetic takes microcode assists of ~100 cycles each,
// and sigmoid LeNet's gradients underflow into that range as training goes
// on: its d2l-recipe epoch, one thread, six alternating runs, took 6.1-6.9 s
// without, 5.4-6.4 s with (same losses). Values below 1.2e-38 become 0;
// nothing else changes. torch.set_flush_denormal(True) is the same setting
// in PyTorch (whose default is off).
#pragma once

namespace constnet {

// Sets the number of threads generated code may use (>= 1); returns the previous number.
int set_num_threads(int threads);
// The number of threads generated code uses: the last set_num_threads, else
// HL_NUM_THREADS, else the number of cores (as Halide's pool decides it).
int num_threads();

// Whether generated code flushes subnormal floats to zero (default true);
// returns the previous setting. No effect on CPUs other than x86.
bool set_flush_denormals(bool flush);

}  // namespace constnet
