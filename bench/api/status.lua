-- wrk script: poll one job's status, as fal_client's iter_events does.
if os.getenv("KILN_KEY") and os.getenv("KILN_KEY") ~= "" then
  wrk.headers["Authorization"] = "Key " .. os.getenv("KILN_KEY")
end
