import Foundation
import Testing
@testable import KilnCore

/// The schema's defaults, the resolved form and its round trip.
@Suite struct RequestDefaultsTests {
    @Test func everyDefaultIsFilled() throws {
        let resolved = try #require(request(resolve(body())))
        let object = try JSONSerialization.jsonObject(with: JSONEncoder().encode(resolved)) as! [String: Any]
        #expect(object.count == TrainingRequest.fields.count)
        #expect(Set(object.keys) == Set(TrainingRequest.fields.map(\.name)))
        #expect(object["with_audio"] is NSNull)

        #expect(resolved.rank == 32)
        #expect(resolved.numberOfSteps == 2000)
        #expect(resolved.learningRate == 2e-4)
        #expect(resolved.numberOfFrames == 89)
        #expect(resolved.frameRate == 25)
        #expect(resolved.resolution == .medium)
        #expect(resolved.aspectRatio == .square)
        #expect(resolved.triggerPhrase == "")
        #expect(resolved.autoScaleInput == false)
        #expect(resolved.splitInputIntoScenes == true)
        #expect(resolved.splitInputDurationThreshold == 30)
        #expect(resolved.debugDataset == false)
        #expect(resolved.withAudio == nil)
        #expect(resolved.audioNormalize == true)
        #expect(resolved.audioPreservePitch == true)
        #expect(resolved.firstFrameConditioningP == 0.5)
        #expect(resolved.validation == [])
        #expect(resolved.validationNegativePrompt == "worst quality, inconsistent motion, blurry, jittery, distorted")
        #expect(resolved.validationNumberOfFrames == 89)
        #expect(resolved.validationFrameRate == 25)
        #expect(resolved.validationResolution == .high)
        #expect(resolved.validationAspectRatio == .square)
        #expect(resolved.stgScale == 1)
        #expect(resolved.generateAudioInValidation == true)
        // The schema table and the Swift initialiser agree.
        #expect(resolved == TrainingRequest(trainingDataURL: "https://example.com/data.zip"))
    }

    @Test func schemaTableMatchesCodingKeys() {
        #expect(TrainingRequest.fields.map(\.name) == TrainingRequest.CodingKeys.allCases.map(\.rawValue))
        #expect(TrainingRequest.fields.filter(\.isRequired).map(\.name) == ["training_data_url"])
    }

    @Test func resolvedRequestRoundTrips() throws {
        let given: [String: Any] = [
            "training_data_url": "https://example.com/d.zip", "rank": 128, "number_of_steps": 20000,
            "learning_rate": 1e-6, "number_of_frames": 121, "frame_rate": 60, "resolution": "high",
            "aspect_ratio": "9:16", "trigger_phrase": "ZQX style", "auto_scale_input": true,
            "split_input_into_scenes": false, "split_input_duration_threshold": 12.5, "debug_dataset": true,
            "with_audio": false, "audio_normalize": false, "audio_preserve_pitch": false,
            "first_frame_conditioning_p": 0, "validation": [["prompt": "a cat", "image_url": "https://x.y/c.png"]],
            "validation_negative_prompt": "", "validation_number_of_frames": 9, "validation_frame_rate": 8,
            "validation_resolution": "low", "validation_aspect_ratio": "16:9", "stg_scale": 3,
            "generate_audio_in_validation": false,
        ]
        #expect(given.count == TrainingRequest.fields.count)
        let resolved = try #require(request(resolve(given)))
        #expect(resolved.validation == [ValidationPrompt(prompt: "a cat", imageURL: "https://x.y/c.png")])
        #expect(resolved.frameSize == (704, 1280))
        #expect(resolved.validationFrameSize == (672, 384))
        let again = try #require(request(RequestValidator.resolve(json: JSONEncoder().encode(resolved))))
        #expect(again == resolved)
        #expect(try JSONDecoder().decode(TrainingRequest.self, from: JSONEncoder().encode(resolved)) == resolved)
    }
}
