-- wrk script: POST a valid training request to the queue (one new job per request).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"training_data_url":"https://example.com/clips.zip","number_of_steps":500}'
if os.getenv("KILN_KEY") and os.getenv("KILN_KEY") ~= "" then
  wrk.headers["Authorization"] = "Key " .. os.getenv("KILN_KEY")
end
