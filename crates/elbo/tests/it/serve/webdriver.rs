//! A minimal W3C WebDriver client over the HTTP client elbo already has
//! (ureq): start chromedriver, open headless Chromium in it, find
//! elements, move the pointer, click, run a script, take a screenshot.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// chromedriver and Chromium, if installed; skipped with a note otherwise,
/// unless `ELBO_REQUIRE_BROWSER=1` (set by `.ci/run`, which installs them).
pub fn browser() -> Option<(String, String)> {
    let found = |names: &[&str]| {
        names.iter().find_map(|n| {
            Command::new(n)
                .arg("--version")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|_| n.to_string())
        })
    };
    let driver = found(&["chromedriver"]);
    let chromium = found(&["chromium", "chromium-browser", "google-chrome"]);
    match (driver, chromium) {
        (Some(d), Some(c)) => Some((d, c)),
        _ => {
            assert!(
                std::env::var("ELBO_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "ELBO_REQUIRE_BROWSER=1 but chromedriver or chromium is not on PATH"
            );
            eprintln!("note: chromedriver or chromium not found; the browser test is skipped");
            None
        }
    }
}

/// A chromedriver process and one headless Chromium it drives; both end on drop.
pub struct Browser {
    driver: Child,
    base: String,
    agent: ureq::Agent,
}

impl Browser {
    pub fn start(driver: &str, chromium: &str) -> Browser {
        Browser::sized(driver, chromium, (1280, 1700))
    }

    /// A browser whose window is `size` (width, height) pixels.
    pub fn sized(driver: &str, chromium: &str, size: (u32, u32)) -> Browser {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let mut s = Browser {
            driver: child,
            base: format!("http://127.0.0.1:{port}"),
            agent,
        };
        let start = Instant::now();
        while !s.ready() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "chromedriver did not start"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({ "capabilities": { "alwaysMatch": { "goog:chromeOptions": {
            "binary": which(chromium),
            "args": ["--headless", "--no-sandbox", "--disable-gpu",
                &format!("--window-size={},{}", size.0, size.1)],
        } } } });
        let v = s.post("/session", caps); // the W3C "new session" command
        let id = v["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("chromedriver started no browser: {v}"));
        s.base = format!("{}/session/{id}", s.base);
        s
    }

    /// Whether chromedriver answers and is ready to start a browser.
    fn ready(&self) -> bool {
        let Ok(mut res) = self.agent.get(format!("{}/status", self.base)).call() else {
            return false;
        };
        let text = res.body_mut().read_to_string().unwrap_or_default();
        serde_json::from_str::<Value>(&text).is_ok_and(|v| v["value"]["ready"] == json!(true))
    }

    fn get(&self, path: &str) -> Value {
        let res = self.agent.get(format!("{}{path}", self.base)).call();
        read(res)
    }

    fn post(&self, path: &str, body: Value) -> Value {
        let res = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(body.to_string());
        read(res)
    }

    pub fn goto(&self, url: &str) {
        self.post("/url", json!({ "url": url }));
    }

    /// The element `css` selects (panics if none).
    pub fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({ "using": "css selector", "value": css }));
        v["value"][ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    /// Moves the pointer to (x, y) pixels from the centre of `element`.
    pub fn move_to(&self, element: &str, x: i64, y: i64) {
        let action = json!({ "type": "pointerMove", "duration": 50,
            "origin": { ELEMENT: element }, "x": x, "y": y });
        let v = self.post(
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "mouse",
                "parameters": { "pointerType": "mouse" }, "actions": [action] }] }),
        );
        assert!(v["value"].is_null(), "pointer move failed: {v}");
    }

    /// Clicks at (x, y) pixels from the centre of `element`.
    pub fn click_at(&self, element: &str, x: i64, y: i64) {
        let actions = json!([
            { "type": "pointerMove", "duration": 50, "origin": { ELEMENT: element }, "x": x, "y": y },
            { "type": "pointerDown", "button": 0 },
            { "type": "pointerUp", "button": 0 },
        ]);
        let v = self.post(
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "mouse",
                "parameters": { "pointerType": "mouse" }, "actions": actions }] }),
        );
        assert!(v["value"].is_null(), "click failed: {v}");
    }

    /// Presses the button at `from` and moves to `to` in steps of about 5
    /// pixels (offsets from the centre of `element`), then releases it.
    pub fn drag(&self, element: &str, from: (i64, i64), to: (i64, i64)) {
        let steps = ((to.0 - from.0).abs().max((to.1 - from.1).abs()) / 5).max(1);
        let at = |k: i64| {
            let (x, y) = (
                from.0 + (to.0 - from.0) * k / steps,
                from.1 + (to.1 - from.1) * k / steps,
            );
            json!({ "type": "pointerMove", "duration": 10, "origin": { ELEMENT: element }, "x": x, "y": y })
        };
        let mut actions = vec![at(0), json!({ "type": "pointerDown", "button": 0 })];
        actions.extend((1..=steps).map(at));
        actions.push(json!({ "type": "pointerUp", "button": 0 }));
        let v = self.post(
            "/actions",
            json!({ "actions": [{ "type": "pointer", "id": "mouse",
                "parameters": { "pointerType": "mouse" }, "actions": actions }] }),
        );
        assert!(v["value"].is_null(), "drag failed: {v}");
    }

    pub fn click(&self, element: &str) {
        let v = self.post(&format!("/element/{element}/click"), json!({}));
        assert!(v["value"].is_null(), "click failed: {v}");
    }

    /// Runs `script` (a function body) in the page; its return value.
    pub fn script(&self, script: &str) -> Value {
        self.post("/execute/sync", json!({ "script": script, "args": [] }))["value"].clone()
    }

    /// Polls `script` until it returns something other than null or false.
    pub fn wait_for(&self, script: &str, what: &str) -> Value {
        let start = Instant::now();
        loop {
            let v = self.script(script);
            if !(v.is_null() || v == json!(false)) {
                return v;
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The page as a PNG.
    pub fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let v = self.get("/screenshot");
        base64::engine::general_purpose::STANDARD
            .decode(v["value"].as_str().expect("screenshot"))
            .expect("base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.agent.delete(&self.base).call();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn read(res: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Value {
    let mut res = res.expect("chromedriver answers");
    let text = res.body_mut().read_to_string().expect("a body");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// The full path of a program on PATH.
fn which(name: &str) -> String {
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|p| p.join(name))
                .find(|p| p.is_file())
        })
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| name.to_string())
}
