import Foundation
import Testing
@testable import KilnCore

/// Frame sizes, pricing, states, wire shapes and credentials.
@Suite struct ModelTests {
    @Test func frameSizeTable() {
        let table: [(Resolution, AspectRatio, Int, Int)] = [
            (.low, .square, 512, 512), (.low, .landscape, 672, 384), (.low, .portrait, 384, 672),
            (.medium, .square, 768, 768), (.medium, .landscape, 960, 544), (.medium, .portrait, 544, 960),
            (.high, .square, 1024, 1024), (.high, .landscape, 1280, 704), (.high, .portrait, 704, 1280),
        ]
        for (resolution, ratio, width, height) in table {
            let size = ratio.frameSize(resolution)
            #expect(size == (width, height))
            #expect(size.width % 32 == 0 && size.height % 32 == 0)
        }
    }

    @Test func pricing() {
        #expect(Pricing.estimate(steps: 2000) == 9.6)
        #expect(Pricing.estimate(steps: 100) == 0.48)
        #expect(Pricing.estimate(steps: 20000) == 96)
        #expect(TrainingRequest(trainingDataURL: "https://a.b/c", numberOfSteps: 1234).priceEstimateUSD == 5.9232)
    }

    @Test func statesAndFalStatus() {
        #expect(JobState.allCases.filter(\.isTerminal) == [.succeeded, .failed, .cancelled])
        #expect(JobState.queued.falStatus == "IN_QUEUE")
        #expect(JobState.running.falStatus == "IN_PROGRESS")
        #expect(JobState.cancelled.falStatus == "COMPLETED")
        #expect(JobStage.preparingDataset.rawValue == "preparing_dataset")
    }

    @Test func wireShapes() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let file = FalFile(url: "http://h/files/1/a.zip", contentType: "application/zip", fileName: "a.zip", fileSize: 3)
        #expect(String(decoding: try encoder.encode(file), as: UTF8.self)
            == #"{"content_type":"application\/zip","file_name":"a.zip","file_size":3,"url":"http:\/\/h\/files\/1\/a.zip"}"#)
        #expect(String(decoding: try encoder.encode(JobFailure.cancelledByUser), as: UTF8.self)
            == #"{"message":"cancelled by the user","status_code":400,"type":"cancelled"}"#)
        #expect(String(decoding: try encoder.encode(ValidationPrompt(prompt: "p")), as: UTF8.self)
            == #"{"image_url":null,"prompt":"p"}"#)
    }

    @Test func credentialsParse() {
        #expect(APIKeyCredential(authorization: "Key abc:s3:cret") == APIKeyCredential(id: "abc", secret: "s3:cret"))
        #expect(APIKeyCredential(authorization: "Bearer abc:def") == APIKeyCredential(id: "abc", secret: "def"))
        #expect(APIKeyCredential(authorization: "key  abc:def ") == APIKeyCredential(id: "abc", secret: "def"))
        #expect(APIKeyCredential(authorization: "Basic abc:def") == nil)
        #expect(APIKeyCredential(authorization: "Key abcdef") == nil)
        #expect(APIKeyCredential(authorization: "Key :def") == nil)
        #expect(APIKeyCredential(authorization: "Key") == nil)
        #expect(APIKeyCredential(id: "a", secret: "b").token == "a:b")
    }
}
