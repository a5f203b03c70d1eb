import Foundation

/// Stops an engine left running by a worker that died (SIGKILL, crash) before a new attempt of
/// the same job starts, so that two engines never write into one job folder.
///
/// The engine runs in its own process group, so killing the worker does not kill it; it would
/// stop by itself at its next event (its stdout pipe is gone), but a long step or a validation
/// render can take a while. Engines are found by their command line (`kiln_engine run <spec>`)
/// under `/proc`; elsewhere this does nothing.
enum StaleEngineReaper {
    /// SIGKILLs the process group of every engine running `specPath`; returns the pids found.
    @discardableResult
    static func reap(specPath: String) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        let own = getpid()
        var found: [pid_t] = []
        for entry in entries {
            guard let pid = pid_t(entry), pid != own,
                  let raw = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let arguments = raw.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            guard arguments.contains("kiln_engine"), arguments.contains(specPath) else { continue }
            found.append(pid)
            let group = getpgid(pid)
            // Only a group the engine leads (its own); never our own group.
            if group == pid && group != getpgrp() { kill(-group, SIGKILL) } else { kill(pid, SIGKILL) }
        }
        // Give the kernel a moment to tear them down before their folder is reused.
        for pid in found {
            for _ in 0..<50 where kill(pid, 0) == 0 { usleep(20_000) }
        }
        return found
    }
}
