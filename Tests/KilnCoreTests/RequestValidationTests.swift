import Foundation
import Testing
@testable import KilnCore

/// Types, unknown fields, URLs, validation items, many problems at once, malformed bodies.
@Suite struct RequestValidationTests {
    @Test func manyBadFieldsGiveOneIssueEach() throws {
        let result = resolve([
            "rank": 7,
            "number_of_steps": "lots",
            "learning_rate": 2,
            "number_of_frames": 90,
            "resolution": "4k",
            "with_audio": "yes",
            "validation": [["prompt": "a", "image_url": "https://x.y/1.png"], ["prompt": "b"]],
            "stg_scale": true,
            "colour": "blue",
        ])
        let found = issues(result)
        let locs = found.map { $0.loc.map(\.description).joined(separator: ".") }
        #expect(locs == [
            "body.training_data_url", "body.rank", "body.number_of_steps", "body.learning_rate",
            "body.number_of_frames", "body.resolution", "body.with_audio", "body.validation.1.image_url",
            "body.stg_scale", "body.colour",
        ])
        #expect(found.map(\.type) == [
            "missing", "literal_error", "int_type", "less_than_equal", "value_error", "literal_error",
            "bool_type", "value_error", "float_type", "extra_forbidden",
        ])
    }

    @Test func unknownFieldsAreRefused() {
        let found = issues(resolve(body(["steps": 100, "Rank": 8])))
        #expect(found.map(\.loc) == [["body", "Rank"], ["body", "steps"]])
        #expect(found.allSatisfy { $0.type == "extra_forbidden" && $0.msg == "Extra inputs are not permitted" })
    }

    @Test func wrongTypesAreNamed() {
        let cases: [(String, Any, String)] = [
            ("training_data_url", 5, "string_type"),
            ("rank", "32", "int_type"),
            ("rank", true, "int_type"),
            ("number_of_steps", NSNull(), "int_type"),
            ("learning_rate", "0.1", "float_type"),
            ("trigger_phrase", 3, "string_type"),
            ("auto_scale_input", 1, "bool_type"),
            ("auto_scale_input", "true", "bool_type"),
            ("debug_dataset", NSNull(), "bool_type"),
            ("with_audio", 0, "bool_type"),
            ("validation", "a prompt", "list_type"),
            ("validation", ["prompt": "x"], "list_type"),
            ("validation_negative_prompt", ["x"], "string_type"),
            ("resolution", 1, "literal_error"),
        ]
        for (field, value, type) in cases {
            let found = issues(resolve(body([field: value])))
            #expect(found.map(\.type) == [type], "\(field)=\(value)")
            #expect(found.first?.loc == ["body", .key(field)], "\(field)")
        }
    }

    @Test func withAudioTakesTrueFalseOrNull() {
        #expect(request(resolve(body(["with_audio": true])))?.withAudio == true)
        #expect(request(resolve(body(["with_audio": false])))?.withAudio == false)
        #expect(request(resolve(body(["with_audio": NSNull()])))?.withAudio == nil)
        #expect(request(resolve(body()))?.withAudio == nil)
    }

    @Test func trainingDataURLMustBeHTTPOrIssued() {
        for good in ["https://example.com/a.zip", "http://10.0.0.1:8080/x?y=1", "HTTPS://EXAMPLE.COM/A.ZIP"] {
            #expect(issues(resolve(["training_data_url": good])).isEmpty, "\(good)")
        }
        let issued = "kiln-file://files/abc/data.zip"
        #expect(issues(resolve(["training_data_url": issued], issued: [issued])).isEmpty)
        for (bad, type) in [("file:///etc/passwd", "url_scheme"), ("ftp://x.y/a.zip", "url_scheme"),
                            ("data.zip", "url_parsing"), ("", "url_parsing"), ("https://", "url_parsing"),
                            (issued, "url_scheme")] {
            let found = issues(resolve(["training_data_url": bad]))
            #expect(found.map(\.type) == [type], "\(bad)")
            #expect(found.first?.loc == ["body", "training_data_url"])
        }
    }

    @Test func validationImagesAreAllOrNone() throws {
        let none = try #require(request(resolve(body(["validation": [["prompt": "a"], ["prompt": "b", "image_url": NSNull()]]]))))
        #expect(none.validation == [ValidationPrompt(prompt: "a"), ValidationPrompt(prompt: "b")])
        let all = try #require(request(resolve(body(["validation": [
            ["prompt": "a", "image_url": "https://x.y/1.png"],
            ["prompt": "b", "image_url": "data:image/png;base64,AAAA"],
        ]]))))
        #expect(all.validation.map(\.imageURL) == ["https://x.y/1.png", "data:image/png;base64,AAAA"])

        let mixed = issues(resolve(body(["validation": [
            ["prompt": "a"], ["prompt": "b", "image_url": "https://x.y/1.png"], ["prompt": "c"],
        ]])))
        #expect(mixed.map(\.loc) == [["body", "validation", 0, "image_url"], ["body", "validation", 2, "image_url"]])
        #expect(mixed.allSatisfy { $0.type == "value_error" && $0.msg.contains("item 1") })
    }

    @Test func validationItemsAreCheckedFieldByField() {
        let found = issues(resolve(body(["validation": [
            ["image_url": "https://x.y/1.png"],
            "just a string",
            ["prompt": 5, "image_url": "https://x.y/2.png", "seed": 3],
            ["prompt": " ", "image_url": "ftp://x.y/3.png"],
        ]])))
        #expect(found.map(\.loc) == [
            ["body", "validation", 0, "prompt"],
            ["body", "validation", 1],
            ["body", "validation", 2, "prompt"],
            ["body", "validation", 2, "seed"],
            ["body", "validation", 3, "prompt"],
            ["body", "validation", 3, "image_url"],
        ])
        #expect(found.map(\.type) == ["missing", "model_type", "string_type", "extra_forbidden", "string_too_short", "url_scheme"])
    }

    @Test func malformedJSONIsOneIssue() throws {
        let trailingCommas = [#"{"training_data_url":"https://a.b/c.zip",}"#,
                              #"{"training_data_url":"https://a.b/c.zip","validation":[{"prompt":"p"} , ]}"#]
        for text in ["{", "", "{\"rank\": }", "nul", "[1,2", "{\"a\" 1}"] + trailingCommas {
            let result = resolve(text: text)
            guard case .failure(let error) = result else {
                Issue.record("\(text) was accepted")
                continue
            }
            #expect(error.issues.count == 1)
            #expect(error.issues.first?.type == "json_invalid")
            #expect(error.isMalformedJSON)
        }
        #expect(issues(resolve(text: "{\"rank\": }")).first?.msg == "JSON decode error: Invalid value around character 9.")
        #expect(issues(resolve(text: " \n")).first?.msg.contains("the body is empty") == true)
        #expect(issues(resolve(text: trailingCommas[0])).first?.msg == "JSON decode error: trailing comma around character 40; remove it")
        // Commas and brackets inside strings are text, not structure.
        let inStrings = #"{"training_data_url":"https://a.b/c.zip?x=,}","trigger_phrase":"a ,] \",} b","validation":[{"prompt":",]"}]}"#
        guard case .success(let request) = resolve(text: inStrings) else {
            Issue.record("commas inside strings were refused")
            return
        }
        #expect(request.triggerPhrase == #"a ,] ",} b"#)
        for text in ["[]", "\"x\"", "3", "null"] {
            let found = issues(resolve(text: text))
            #expect(found.map(\.type) == ["model_attributes_type"], "\(text)")
            #expect(found.first?.loc == ["body"])
        }
    }

    @Test func detailJSONHasFalShape() throws {
        let error = RequestValidationError(issues: [
            ValidationIssue(loc: ["body", "validation", 0, "image_url"], msg: "bad", type: "value_error"),
        ])
        let text = String(decoding: error.detailJSON(), as: UTF8.self)
        #expect(text == #"{"detail":[{"loc":["body","validation",0,"image_url"],"msg":"bad","type":"value_error"}]}"#)
        struct Body: Decodable { let detail: [ValidationIssue] }
        #expect(try JSONDecoder().decode(Body.self, from: error.detailJSON()).detail == error.issues)
        #expect(error.description.contains("body.validation.0.image_url: bad"))
    }
}
