import ArgumentParser
import Foundation
import KilnCore
import KilnStore

/// Hidden test helper: claims jobs from a store until none is left, printing each id.
/// The store's tests run two of these at once to show two processes never claim one job twice.
/// With `--submit`, it instead submits jobs forever, printing each id once `submit` returned,
/// so a test can SIGKILL it and check every printed job is in the store.
struct ClaimRaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "_claim-race",
        abstract: "Test helper: claim every queued job from a store, printing one id per line.",
        shouldDisplay: false
    )

    @Option(help: "Path of the kiln.sqlite store.")
    var store: String

    @Option(help: "Worker id to claim as.")
    var worker: String

    @Option(help: "Unix time to start at, so several processes start together.")
    var startAt: Double?

    @Option(help: "Lease length in seconds.")
    var leaseSeconds: Double = 600

    @Option(help: "Milliseconds to pause after each claim, so racing processes interleave.")
    var pauseMs: Double = 0

    @Flag(help: "Submit jobs until killed instead of claiming.")
    var submit = false

    func run() throws {
        let jobs = try JobStore(path: store)
        if let startAt {
            let wait = startAt - Date().timeIntervalSince1970
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        if submit {
            let request = TrainingRequest(trainingDataURL: "https://example.com/\(worker).zip")
            while true {
                let job = try jobs.submit(owner: worker, request: request)
                FileHandle.standardOutput.write(Data((job.id.uuidString + "\n").utf8))
            }
        }
        while let job = try jobs.claimNext(workerID: worker, leaseSeconds: leaseSeconds) {
            FileHandle.standardOutput.write(Data((job.id.uuidString + "\n").utf8))
            if pauseMs > 0 { Thread.sleep(forTimeInterval: pauseMs / 1000) }
        }
    }
}
