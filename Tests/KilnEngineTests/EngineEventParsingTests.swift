import Testing

@testable import KilnEngine

@Suite("Engine event parsing")
struct EngineEventParsingTests {
    @Test func phase() throws {
        #expect(try EngineEvent(jsonLine: #"{"event":"phase","name":"training"}"#) == .phase(name: "training"))
    }

    @Test func progressWithAllFields() throws {
        let event = try EngineEvent(
            jsonLine: #"{"event":"progress","phase":"training","step":3,"total":30,"loss":0.25,"lr":0.0002,"seconds_per_step":1.5,"eta_seconds":40.5}"#
        )
        #expect(
            event
                == .progress(
                    EngineProgress(
                        phase: "training", step: 3, total: 30, loss: 0.25, learningRate: 0.0002, secondsPerStep: 1.5,
                        etaSeconds: 40.5)))
        if case .progress(let progress) = event { #expect(progress.fraction == 0.1) }
    }

    @Test func nonFiniteLossIsReadAsAbsent() throws {
        let event = try EngineEvent(jsonLine: #"{"event": "progress", "step": 1, "total": 2, "loss": NaN, "lr": Infinity}"#)
        #expect(event == .progress(EngineProgress(phase: "training", step: 1, total: 2)))
    }

    @Test func checkpointArtifactAndDone() throws {
        #expect(
            try EngineEvent(jsonLine: #"{"event":"checkpoint","step":50,"path":"/j/ckpt/step_000050"}"#)
                == .checkpoint(step: 50, path: "/j/ckpt/step_000050"))
        #expect(
            try EngineEvent(jsonLine: #"{"event":"artifact","kind":"lora","path":"/j/out/lora.safetensors"}"#)
                == .artifact(EngineArtifact(kind: .lora, path: "/j/out/lora.safetensors")))
        #expect(
            try EngineEvent(jsonLine: #"{"event":"artifact","kind":"preview","path":"/p"}"#)
                == .artifact(EngineArtifact(kind: .other("preview"), path: "/p")))
        #expect(try EngineEvent(jsonLine: #"  {"event":"done"}  "#) == .done)
    }

    @Test(arguments: [
        ("OutOfMemory", EngineErrorKind.outOfMemory), ("BadDataset", .badDataset), ("ModelNotFound", .modelNotFound),
        ("BadSpec", .badSpec), ("BadCheckpoint", .badCheckpoint), ("Interrupted", .interrupted), ("InternalError", .internalError), ("Weird", .other("Weird")),
    ])
    func errorKinds(wire: String, kind: EngineErrorKind) throws {
        let event = try EngineEvent(jsonLine: #"{"event":"error","type":"\#(wire)","message":"m"}"#)
        #expect(event == .error(kind: kind, message: "m"))
        #expect(kind.rawValue == wire)
    }

    @Test func logAndUnknownEvents() throws {
        #expect(
            try EngineEvent(jsonLine: #"{"event":"log","level":"warning","message":"clip 3 has no audio"}"#)
                == .log(level: "warning", message: "clip 3 has no audio"))
        let line = #"{"event":"heartbeat","t":1}"#
        #expect(try EngineEvent(jsonLine: line) == .unknown(name: "heartbeat", json: line))
    }

    @Test(arguments: [
        ("Loading checkpoint shards: 100%", "not a JSON object"),
        (#"{"step": 1}"#, "no \"event\" field"),
        (#"{"event":"progress","total":2}"#, "progress event without \"step\""),
        (#"{"event":"checkpoint","step":2}"#, "checkpoint event without \"path\""),
        (#"{"event":"phase""#, "malformed JSON"),
    ])
    func badLinesNameTheProblem(line: String, reason: String) {
        #expect(throws: EngineEventParseError(line: line, reason: reason)) {
            try EngineEvent(jsonLine: line)
        }
    }
}
