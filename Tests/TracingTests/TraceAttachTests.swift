// Tests of the trace seam's slot: a recorder that is detached, or replaced, is freed, also
// while other threads are in the middle of a probe.
import Glibc
import SocketServer
import Synchronization
import Testing

import Tracing

@Suite("Recorder detached", .serialized, .timeLimit(.minutes(1)))
struct RecorderDetachTests {
    @Test("a detached recorder is freed, also while other threads probe")
    func detachedRecorderIsFreed() async {
        // A fresh process: no other test's server probes the slot meanwhile.
        await #expect(processExitsWith: .success) {
            final class Target: Sendable {}
            final class Flag: Sendable { let stop = Atomic<Bool>(false) }
            struct Weak { weak var recorder: Recorder? }

            var first = Weak()
            do {
                let recorder = Recorder()
                first.recorder = recorder
                Trace.attach(recorder)
                traced("Target.run", line: 1, Target()) {}
                Trace.attach(nil)
            }
            guard first.recorder == nil else {
                print("a detached recorder is still alive")
                exit(1)
            }

            // Probes racing attach and detach: every replaced recorder must go.
            let flag = Flag()
            var threads: [PThread] = []
            for _ in 0..<4 {
                let thread = PThread(name: "prober") {
                    let target = Target()
                    while !flag.stop.load(ordering: .relaxed) {
                        traced("Target.probe", line: 2, target) {}
                    }
                }
                try? thread.start()
                threads.append(thread)
            }
            var replaced: [Weak] = []
            for round in 0..<200 {
                do {
                    let recorder = Recorder()
                    replaced.append(Weak(recorder: recorder))
                    Trace.attach(recorder)
                }
                if round % 2 == 1 { Trace.attach(nil) }
                usleep(200)
            }
            Trace.attach(nil)
            flag.stop.store(true, ordering: .relaxed)
            for thread in threads { try? thread.join() }
            let alive = replaced.filter { $0.recorder != nil }.count
            guard alive == 0 else {
                print("\(alive) of \(replaced.count) detached recorders are still alive")
                exit(1)
            }
        }
    }
}
