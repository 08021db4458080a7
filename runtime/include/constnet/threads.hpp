// Threads of generated code: one Halide thread pool serves every network of
// a program. Its size is taken from the environment variable HL_NUM_THREADS
// when the pool starts (default: the number of cores); set_num_threads
// changes it at run time by stopping the pool, which the next call restarts
// with the new size: call it when no generated code is running.
#pragma once

namespace constnet {

// Sets the number of threads generated code may use (>= 1); returns the previous number.
int set_num_threads(int threads);

}  // namespace constnet
