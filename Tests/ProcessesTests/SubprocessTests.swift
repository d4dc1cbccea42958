// Subprocess against real children (/bin/sh and what it runs): output on both pipes however
// much there is, lines as they come, how a child ended, and a stop that leaves nothing of the
// child's process group behind. Every child is stopped by its pid when its test ends.
import Glibc
import Processes
import TestSupport
import Testing

@Suite("Subprocess")
struct SubprocessTests {
    @Test("a megabyte on each pipe is captured whole, with the exit status", .timeLimit(.minutes(1)))
    func bothPipesInFull() throws {
        // The child writes all of standard output before any standard error: a reader of one
        // pipe alone would leave it blocked on the other.
        let child = try Subprocess([
            "/bin/sh", "-c", "head -c 1048576 /dev/zero | tr '\\0' a; head -c 1048576 /dev/zero | tr '\\0' b >&2; exit 3",
        ])
        defer { child.stop() }
        #expect(child.wait(timeout: 30), "the child did not end within 30 s")
        #expect(child.termination == .exited(3))
        #expect(child.termination?.code == 3)
        let output = child.output
        let errors = child.errors
        #expect(output.count == 1_048_576 && output.allSatisfy { $0 == UInt8(ascii: "a") }, "\(output.count) bytes of output")
        #expect(errors.count == 1_048_576 && errors.allSatisfy { $0 == UInt8(ascii: "b") }, "\(errors.count) bytes of errors")
    }

    @Test("lines are read as they come; a line that does not come is nil", .timeLimit(.minutes(1)))
    func lines() throws {
        let child = try Subprocess(["/bin/sh", "-c", "echo one; printf 'two\\nthree'; exec sleep 30"])
        defer { child.stop() }
        #expect(child.readLine(timeout: 20) == "one")
        #expect(child.readLine(timeout: 20) == "two")
        // "three" has no newline and the child sleeps on.
        #expect(child.readLine(timeout: 0.2) == nil)
        #expect(!child.hasExited())
        #expect(child.stop().isEmpty, "sleep replaced the shell: nothing else is in the group")
        #expect(child.termination == .signalled(SIGKILL))
        #expect(child.termination?.description == "killed by signal 9")
        #expect(String(decoding: child.output, as: UTF8.self) == "one\ntwo\nthree")
    }

    @Test("stop: SIGTERM first; what the child forked is killed and named", .timeLimit(.minutes(1)))
    func stopEndsTheGroup() throws {
        let child = try Subprocess(["/bin/sh", "-c", "sleep 30 & echo $!; wait"])
        defer { child.stop() }
        let line = try #require(child.readLine(timeout: 20), "the shell printed no pid")
        let sleeper = try #require(pid_t(line), "not a pid: \(line)")
        #expect(ProcessEntry(pid: sleeper)?.group == child.pid, "the sleep is in the child's group")
        let stuck = child.stop(grace: 10)
        #expect(child.termination == .signalled(SIGTERM), "\(child.termination.map(String.init(describing:)) ?? "running")")
        #expect(stuck.count == 1 && stuck.first?.hasPrefix("pid \(sleeper) state ") == true, "\(stuck)")
        // Killed; reaped by whoever inherited it, or a zombie until then.
        let gone = waitUntil(timeout: 10) {
            ProcessEntry(pid: sleeper).map { $0.state == "Z" || $0.group != child.pid } ?? true
        }
        #expect(gone, "the forked sleep outlived stop()")
        #expect(child.stop().isEmpty, "a second stop does nothing")
    }

    @Test("a wait that runs out says so and leaves the child running", .timeLimit(.minutes(1)))
    func waitRunsOut() throws {
        let child = try Subprocess(["/bin/sh", "-c", "exec sleep 30"])
        defer { child.stop() }
        #expect(!child.wait(timeout: 0.05))
        #expect(child.termination == nil)
        child.signal(SIGTERM)
        #expect(child.wait(timeout: 20))
        #expect(child.termination == .signalled(SIGTERM))
    }

    @Test("the environment is this process's with the extra variables", .timeLimit(.minutes(1)))
    func environment() throws {
        let child = try Subprocess(["/bin/sh", "-c", "echo \"$SSW_PROBE|$PATH\""], environment: ["SSW_PROBE": "a b"])
        defer { child.stop() }
        #expect(child.wait(timeout: 20))
        let path = String(cString: getenv("PATH"))
        #expect(String(decoding: child.output, as: UTF8.self) == "a b|\(path)\n")
    }

    @Test("a program that does not exist is an error, not a child", .timeLimit(.minutes(1)))
    func missingProgram() {
        #expect {
            _ = try Subprocess(["/nonexistent/ssw-no-such-program"])
        } throws: { error in
            "\(error)" == "cannot run /nonexistent/ssw-no-such-program: No such file or directory"
        }
    }

    @Test("the process table knows this process and its parent")
    func processTableHasUs() throws {
        let me = try #require(ProcessEntry(pid: getpid()))
        #expect(me.parent == getppid())
        #expect(me.state == "R" || me.state == "S")
        #expect(processTable().contains { $0.pid == getpid() })
        #expect(processMemoryKB(getpid(), "VmRSS").map { $0 > 0 } == true)
        #expect(processStatus(getpid(), "Name") != nil)
    }
}
