import Foundation
import Testing
@testable import KilnCore

/// Every ranged field at its edges and one step past them.
@Suite struct RequestRangeTests {
    struct Edge: Sendable, CustomStringConvertible {
        let field: String
        let okLow: Double, okHigh: Double
        let badLow: Double, badHigh: Double
        var description: String { field }
    }

    static let edges: [Edge] = [
        Edge(field: "number_of_steps", okLow: 100, okHigh: 20000, badLow: 99, badHigh: 20001),
        Edge(field: "learning_rate", okLow: 1e-6, okHigh: 1, badLow: 9.9e-7, badHigh: 1.0001),
        Edge(field: "number_of_frames", okLow: 9, okHigh: 121, badLow: 8, badHigh: 122),
        Edge(field: "frame_rate", okLow: 8, okHigh: 60, badLow: 7, badHigh: 61),
        Edge(field: "split_input_duration_threshold", okLow: 1, okHigh: 60, badLow: 0.999, badHigh: 60.001),
        Edge(field: "first_frame_conditioning_p", okLow: 0, okHigh: 1, badLow: -0.001, badHigh: 1.001),
        Edge(field: "validation_number_of_frames", okLow: 9, okHigh: 121, badLow: 8, badHigh: 122),
        Edge(field: "validation_frame_rate", okLow: 8, okHigh: 60, badLow: 7, badHigh: 61),
        Edge(field: "stg_scale", okLow: 0, okHigh: 3, badLow: -0.001, badHigh: 3.001),
    ]

    static func number(_ x: Double) -> Any { x.rounded() == x ? Int(x) as Any : x as Any }

    @Test(arguments: edges)
    func edgesAreAccepted(_ edge: Edge) throws {
        for value in [edge.okLow, edge.okHigh] {
            let result = resolve(body([edge.field: Self.number(value)]))
            #expect(issues(result).isEmpty, "\(edge.field)=\(value) should be accepted: \(issues(result))")
            let encoded = try JSONSerialization.jsonObject(with: JSONEncoder().encode(try #require(request(result)))) as! [String: Any]
            #expect((encoded[edge.field] as? NSNumber)?.doubleValue == value)
        }
    }

    @Test(arguments: edges)
    func onePastIsRefused(_ edge: Edge) {
        let low = issues(resolve(body([edge.field: Self.number(edge.badLow)])))
        #expect(low.count == 1)
        #expect(low.first?.loc == ["body", .key(edge.field)])
        #expect(low.first?.type == "greater_than_equal")
        let high = issues(resolve(body([edge.field: Self.number(edge.badHigh)])))
        #expect(high.count == 1)
        #expect(high.first?.loc == ["body", .key(edge.field)])
        #expect(high.first?.type == "less_than_equal")
    }

    @Test func rankTakesOnlyItsFiveValues() {
        for rank in [8, 16, 32, 64, 128] {
            #expect(request(resolve(body(["rank": rank])))?.rank == rank)
        }
        for rank in [0, 7, 9, 33, 127, 129, 256] {
            let found = issues(resolve(body(["rank": rank])))
            #expect(found.map(\.type) == ["literal_error"], "rank \(rank)")
            #expect(found.first?.loc == ["body", "rank"])
            #expect(found.first?.msg == "Input should be 8, 16, 32, 64 or 128")
        }
    }

    @Test(arguments: ["number_of_frames", "validation_number_of_frames"])
    func framesMustBeEightNPlusOne(_ field: String) {
        for good in stride(from: 9, through: 121, by: 8) {
            #expect(issues(resolve(body([field: good]))).isEmpty, "\(field)=\(good)")
        }
        for bad in [10, 16, 88, 90, 120] {
            let found = issues(resolve(body([field: bad])))
            #expect(found.count == 1)
            #expect(found.first?.type == "value_error")
            #expect(found.first?.loc == ["body", .key(field)])
            #expect(found.first?.msg.contains("8n+1") == true)
        }
        #expect(issues(resolve(body([field: 90]))).first?.msg.contains("try 89 or 97") == true)
    }

    @Test func choicesAreChecked() {
        for (field, good, bad) in [("resolution", "low", "ultra"), ("aspect_ratio", "9:16", "4:3"),
                                   ("validation_resolution", "medium", "HIGH"), ("validation_aspect_ratio", "16:9", "16x9")] {
            #expect(issues(resolve(body([field: good]))).isEmpty)
            let found = issues(resolve(body([field: bad])))
            #expect(found.map(\.type) == ["literal_error"])
            #expect(found.first?.loc == ["body", .key(field)])
        }
        #expect(issues(resolve(body(["resolution": "x"]))).first?.msg == "Input should be 'low', 'medium' or 'high'")
    }

    @Test func integralNumbersCountAsIntegers() {
        #expect(request(resolve(text: #"{"training_data_url":"https://a.b/c.zip","rank":16.0,"number_of_steps":1e3}"#))?.numberOfSteps == 1000)
        let found = issues(resolve(body(["number_of_steps": 100.5])))
        #expect(found.map(\.type) == ["int_from_float"])
        let huge = issues(resolve(text: #"{"training_data_url":"https://a.b/c.zip","number_of_steps":1e30}"#))
        #expect(huge.map(\.type) == ["less_than_equal"])
    }
}
