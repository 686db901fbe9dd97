//! The header of an `.npy` file: a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`, parsed just
//! far enough for elbo's needs.

/// The three keys an NPY header holds.
pub(crate) struct Header {
    /// The dtype string, e.g. `<f4`.
    pub descr: String,
    /// Whether the data is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// The array's dimensions.
    pub shape: Vec<usize>,
}

/// A value in the header dict.
enum Value {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }`.
pub(crate) fn parse(text: &str) -> Result<Header, String> {
    let mut c = Cursor {
        s: text.as_bytes(),
        i: 0,
    };
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    c.expect(b'{')?;
    while !c.eat(b'}') {
        let key = c.string()?;
        c.expect(b':')?;
        match (key.as_str(), c.value()?) {
            ("descr", Value::Str(s)) => descr = Some(s),
            ("fortran_order", Value::Bool(b)) => fortran = Some(b),
            ("shape", Value::Tuple(t)) => shape = Some(t),
            (k, _) => return Err(format!("unexpected key or value type for '{k}'")),
        }
        if !c.eat(b',') {
            c.expect(b'}')?;
            break;
        }
    }
    Ok(Header {
        descr: descr.ok_or("no 'descr' key (structured dtypes are not supported)")?,
        fortran_order: fortran.ok_or("no 'fortran_order' key")?,
        shape: shape.ok_or("no 'shape' key")?,
    })
}

/// A position in the header text.
struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn skip_ws(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }
    fn eat(&mut self, ch: u8) -> bool {
        self.skip_ws();
        let hit = self.s.get(self.i) == Some(&ch);
        self.i += usize::from(hit);
        hit
    }
    fn expect(&mut self, ch: u8) -> Result<(), String> {
        match self.eat(ch) {
            true => Ok(()),
            false => Err(format!("expected '{}' at byte {}", ch as char, self.i)),
        }
    }
    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &str {
        let start = self.i;
        while self.s.get(self.i).is_some_and(|&b| f(b)) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }
    fn string(&mut self) -> Result<String, String> {
        self.skip_ws();
        let q = match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => q,
            _ => return Err(format!("expected a quoted string at byte {}", self.i)),
        };
        self.i += 1;
        let s = self.take_while(|b| b != q).to_string();
        self.expect(q)?;
        Ok(s)
    }
    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        match self.s.get(self.i) {
            Some(b'\'' | b'"') => self.string().map(Value::Str),
            Some(b'(') => self.tuple().map(Value::Tuple),
            Some(b'[') => Err("structured dtypes are not supported".into()),
            _ => match self.take_while(|b| b.is_ascii_alphabetic()) {
                "True" => Ok(Value::Bool(true)),
                "False" => Ok(Value::Bool(false)),
                _ => Err(format!("unexpected value at byte {}", self.i)),
            },
        }
    }
    fn tuple(&mut self) -> Result<Vec<usize>, String> {
        self.expect(b'(')?;
        let mut dims = Vec::new();
        while !self.eat(b')') {
            self.skip_ws();
            let num = self.take_while(|b| b.is_ascii_digit());
            dims.push(
                num.parse()
                    .map_err(|_| format!("bad dimension at byte {}", self.i))?,
            );
            self.eat(b'L');
            if !self.eat(b',') {
                self.expect(b')')?;
                break;
            }
        }
        Ok(dims)
    }
}
