//! OpenVMS condition values, decoded from the documentation (pure).
//!
//! An OpenVMS image ends with a 32-bit *condition value* (`$EXIT code`),
//! which DCL keeps in `$STATUS` and whose low three bits are `$SEVERITY`.
//! There is no OpenVMS on this machine, so nothing here is observed: the
//! decoder and the C run-time library's mapping of `exit(status)` are
//! written from the sources below and checked against their examples.
//!
//! # Layout (`$STSDEF`)
//!
//! The fields are those of the `$STSDEF` definitions (`stsdef.h` in
//! `SYS$LIBRARY`, described in the *HP OpenVMS Programming Concepts Manual*,
//! "Condition Values"):
//!
//! | bits  | field                          | `$STSDEF` name                |
//! |-------|--------------------------------|-------------------------------|
//! | 0–2   | severity                       | `STS$V_SEVERITY`, size 3      |
//! | 0     | success (odd = success)        | `STS$V_SUCCESS`               |
//! | 3–15  | message number                 | `STS$V_MSG_NO`, size 13       |
//! | 3–14  | code                           | `STS$V_CODE`, size 12         |
//! | 15    | facility-specific message      | `STS$V_FAC_SP` (`STS$M_FAC_SP` = `0x8000`) |
//! | 16–27 | facility number                | `STS$V_FAC_NO`, size 12       |
//! | 27    | customer (not vendor) facility | `STS$V_CUST_DEF` (`0x0800_0000`) |
//! | 28–31 | control bits                   | `STS$V_CONTROL`, size 4       |
//! | 28    | inhibit the message at `$EXIT` | `STS$V_INHIB_MSG` (`STS$M_INHIB_MSG` = `0x1000_0000`) |
//!
//! and the severities `STS$K_WARNING` 0, `STS$K_SUCCESS` 1, `STS$K_ERROR` 2,
//! `STS$K_INFO` 3, `STS$K_SEVERE` 4 (5 to 7 are not defined). Two
//! independent transcriptions of `stsdef.h` in public repositories agree on
//! every one of these values. DCL's `EXIT` help: "The low-order 3 bits of
//! the value determine the value of the global symbol $SEVERITY ... even
//! numeric values produce warning, error, and fatal error messages, and ...
//! odd numeric values produce either no message or a success or
//! informational message." A message shows the severity as one letter,
//! `%FACILITY-L-IDENT` (*OpenVMS System Messages: Companion Guide*, 1.1
//! "Format of System Messages"); the letters are W, S, E, I and F.
//!
//! # The C run-time library's `exit`
//!
//! [`crtl_exit`] follows *VSI/HP C Run-Time Library Reference Manual for
//! OpenVMS Systems*, `exit, _exit`, "Argument":
//!
//! > For non-POSIX behavior, a status value of EXIT_SUCCESS (1), EXIT_FAILURE
//! > (2), or a number from 3 to 255, as follows:
//! > - A status value of 0, 1 or EXIT_SUCCESS is translated to the OpenVMS
//! >   SS$_NORMAL status code to return the OpenVMS success value.
//! > - A status value of 2 or EXIT_FAILURE is translated to an error-level
//! >   exit status. The status value is passed to the parent process.
//! > - Any other status value is left the same.
//! >
//! > For POSIX behavior:
//! > - A status value of 0 is translated to the OpenVMS SS$_NORMAL status
//! >   code to return the OpenVMS success value.
//! > - Any other status is returned to the parent process as an OpenVMS
//! >   message symbol with facility set to C, severity set to success, and
//! >   with the status in the message number field.
//! >
//! > To get POSIX behavior, include <unistd.h> and compile with the
//! > _POSIX_EXIT feature-test macro set ... This behavior is available only
//! > on OpenVMS Version 7.0 and higher systems.
//!
//! and, under "Description": "The C compiler command-line qualifier
//! /\[NO\]MAIN=POSIX_EXIT can be used to direct the compiler to call
//! __posix_exit instead of exit when returning from main."
//!
//! The manual gives neither the bits of the "error-level exit status" nor
//! the number of facility C. [`CrtlExit`] says exactly what it documents.
//! The numbers in use elsewhere are recorded as *de facto*, never as the
//! manual's: Perl's `perl.h` (`#define C_FAC_POSIX 0x35A000`) and GNU
//! make's `src/vms_exit.c` (`C_FACILITY_NO 0x350000`, `| 0xA000`, with the
//! comment "Undocumented correct way to do this") build POSIX exit values
//! as `0x35A000 | status << 3 | severity`; and DCL printed
//! `%C-W-NOMSG, Message number 0035A018` for one (quoted in OpenSSL's
//! commit "Have the VMS exit code follow POSIX conventions", 2016), which
//! names facility `0x35` "C".

use std::fmt;

/// `SS$_NORMAL`: normal successful completion (`ssdef.h`: 1).
pub const SS_NORMAL: u32 = 1;
/// `SS$_ABORT`: abort (`ssdef.h`: 44, `%X0000002C`).
pub const SS_ABORT: u32 = 44;
/// `STS$M_FAC_SP`: the message is specific to its facility.
pub const STS_M_FAC_SP: u32 = 0x0000_8000;
/// `STS$M_CUST_DEF`: the facility is a customer's, not the vendor's.
pub const STS_M_CUST_DEF: u32 = 0x0800_0000;
/// `STS$M_INHIB_MSG`: `$EXIT` prints no message for this value.
pub const STS_M_INHIB_MSG: u32 = 0x1000_0000;
/// The de facto base of a POSIX `exit` value (Perl's `C_FAC_POSIX`): facility
/// `0x35` (C), the facility-specific bit and bit 13 of the message number.
/// Not given by HP/VSI's manual.
pub const C_FAC_POSIX: u32 = 0x0035_A000;

/// The severity field (bits 0–2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    /// `STS$K_WARNING` (0), letter W.
    Warning,
    /// `STS$K_SUCCESS` (1), letter S.
    Success,
    /// `STS$K_ERROR` (2), letter E.
    Error,
    /// `STS$K_INFO` (3), letter I.
    Informational,
    /// `STS$K_SEVERE` (4), letter F (DCL's "fatal").
    Severe,
    /// 5, 6 or 7: no `STS$K_` name.
    Reserved(u8),
}

impl Severity {
    /// The severity of a three-bit field (only the low three bits count).
    pub fn from_bits(bits: u32) -> Severity {
        match bits & 7 {
            0 => Severity::Warning,
            1 => Severity::Success,
            2 => Severity::Error,
            3 => Severity::Informational,
            4 => Severity::Severe,
            n => Severity::Reserved(n as u8),
        }
    }

    /// The field's value.
    pub fn bits(self) -> u32 {
        match self {
            Severity::Warning => 0,
            Severity::Success => 1,
            Severity::Error => 2,
            Severity::Informational => 3,
            Severity::Severe => 4,
            Severity::Reserved(n) => u32::from(n & 7),
        }
    }

    /// The letter of a message (`%SYSTEM-F-ABORT`), `?` for a reserved one.
    pub fn letter(self) -> char {
        match self {
            Severity::Warning => 'W',
            Severity::Success => 'S',
            Severity::Error => 'E',
            Severity::Informational => 'I',
            Severity::Severe => 'F',
            Severity::Reserved(_) => '?',
        }
    }

    /// The `$STSDEF` constant's name, or `reserved` for 5–7.
    pub fn stsdef_name(self) -> &'static str {
        match self {
            Severity::Warning => "STS$K_WARNING",
            Severity::Success => "STS$K_SUCCESS",
            Severity::Error => "STS$K_ERROR",
            Severity::Informational => "STS$K_INFO",
            Severity::Severe => "STS$K_SEVERE",
            Severity::Reserved(_) => "reserved",
        }
    }

    /// Whether the low bit (`STS$V_SUCCESS`) is set.
    pub fn is_success(self) -> bool {
        self.bits() & 1 == 1
    }
}

/// A 32-bit condition value. Every `u32` is one; decoding is total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Condition(pub u32);

impl Condition {
    /// Bits 0–2.
    pub fn severity(self) -> Severity {
        Severity::from_bits(self.0)
    }

    /// `STS$V_SUCCESS`: odd values are successes.
    pub fn is_success(self) -> bool {
        self.0 & 1 == 1
    }

    /// `STS$V_MSG_NO`: bits 3–15 (13 bits, the facility-specific bit
    /// included).
    pub fn message_number(self) -> u32 {
        (self.0 >> 3) & 0x1FFF
    }

    /// `STS$V_CODE`: bits 3–14.
    pub fn code(self) -> u32 {
        (self.0 >> 3) & 0xFFF
    }

    /// `STS$V_FAC_SP`: bit 15.
    pub fn facility_specific(self) -> bool {
        self.0 & STS_M_FAC_SP != 0
    }

    /// `STS$V_FAC_NO`: bits 16–27 (12 bits, the customer bit included).
    pub fn facility(self) -> u32 {
        (self.0 >> 16) & 0xFFF
    }

    /// `STS$V_CUST_DEF`: bit 27.
    pub fn customer(self) -> bool {
        self.0 & STS_M_CUST_DEF != 0
    }

    /// `STS$V_CONTROL`: bits 28–31.
    pub fn control(self) -> u32 {
        self.0 >> 28
    }

    /// `STS$V_INHIB_MSG`: bit 28.
    pub fn inhibit_message(self) -> bool {
        self.0 & STS_M_INHIB_MSG != 0
    }

    /// `STS$V_COND_ID`: bits 3–27, the value without severity and control.
    pub fn condition_id(self) -> u32 {
        (self.0 >> 3) & 0x01FF_FFFF
    }

    /// The facility's name, for the few facility numbers with a source:
    /// 0 SYSTEM (`SS$_` values, `SYSTEM$_FACILITY 0`), 3 CLI (`196609` is
    /// `%CLI-S-NORMAL` in Perl's `t/run/exit.t`), `0x35` C (DCL's
    /// `%C-W-NOMSG, Message number 0035A018`, see the module's notes).
    pub fn facility_name(self) -> Option<&'static str> {
        match self.facility() {
            0 => Some("SYSTEM"),
            3 => Some("CLI"),
            0x35 => Some("C"),
            _ => None,
        }
    }
}

impl fmt::Display for Condition {
    /// `%X0000002C (severity F = STS$K_SEVERE, failure, facility 0 SYSTEM,
    /// message 5)`, then the flags that are set: `facility-specific`,
    /// `customer facility`, `STS$M_INHIB_MSG`, and the other control bits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = self.severity();
        write!(f, "%X{:08X} (severity {}", self.0, sev.letter())?;
        match sev {
            Severity::Reserved(n) => write!(f, " = {n}, reserved")?,
            _ => write!(f, " = {}", sev.stsdef_name())?,
        }
        let outcome = if self.is_success() {
            "success"
        } else {
            "failure"
        };
        write!(f, ", {outcome}, facility {}", self.facility())?;
        if let Some(name) = self.facility_name() {
            write!(f, " {name}")?;
        }
        write!(f, ", message {}", self.message_number())?;
        if self.facility_specific() {
            f.write_str(", facility-specific")?;
        }
        if self.customer() {
            f.write_str(", customer facility")?;
        }
        if self.inhibit_message() {
            f.write_str(", STS$M_INHIB_MSG")?;
        }
        let other = self.control() & !1;
        if other != 0 {
            write!(f, ", control bits {:#X}", other << 28)?;
        }
        f.write_str(")")
    }
}

/// Whether the C run-time library's `exit` has POSIX behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitMode {
    /// The default: no `_POSIX_EXIT`.
    Classic,
    /// Compiled with `_POSIX_EXIT` (or `main` returning under
    /// `/MAIN=POSIX_EXIT`, which calls `__posix_exit`).
    Posix,
}

/// What the C run-time library makes of `exit(status)`, no more precisely
/// than the manual says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrtlExit {
    /// The manual gives the exact condition value.
    Exact(Condition),
    /// The manual gives only the severity: "an error-level exit status".
    SeverityOnly(Severity),
    /// POSIX behaviour for a status other than 0: "an OpenVMS message
    /// symbol with facility set to C, severity set to success, and with the
    /// status in the message number field". The manual gives no numbers;
    /// `de_facto` is `C_FAC_POSIX | status << 3 | STS$K_SUCCESS` for a
    /// status of 1 to 255 (Perl's and GNU make's encoding, which the
    /// manual does not confirm), and `None` outside that range, where
    /// nothing says what happens.
    FacilityC {
        /// The status passed to `exit`.
        status: i32,
        /// The value in use elsewhere, not the manual's.
        de_facto: Option<Condition>,
    },
}

impl CrtlExit {
    /// The severity the parent sees, where the manual gives it.
    pub fn severity(self) -> Severity {
        match self {
            CrtlExit::Exact(c) => c.severity(),
            CrtlExit::SeverityOnly(s) => s,
            CrtlExit::FacilityC { .. } => Severity::Success,
        }
    }
}

/// The C run-time library's `exit(status)` under `mode` (see the module's
/// notes for the manual's text). Total: every `i32` in either mode.
pub fn crtl_exit(status: i32, mode: ExitMode) -> CrtlExit {
    match (mode, status) {
        (ExitMode::Classic, 0 | 1) | (ExitMode::Posix, 0) => CrtlExit::Exact(Condition(SS_NORMAL)),
        (ExitMode::Classic, 2) => CrtlExit::SeverityOnly(Severity::Error),
        // "Any other status value is left the same": the int's 32 bits.
        (ExitMode::Classic, other) => CrtlExit::Exact(Condition(other as u32)),
        (ExitMode::Posix, other) => CrtlExit::FacilityC {
            status: other,
            de_facto: (1..=255)
                .contains(&other)
                .then(|| Condition(C_FAC_POSIX | (other as u32) << 3 | Severity::Success.bits())),
        },
    }
}

/// Unit tests: the examples of the sources above. (`#[test]` items exist
/// only in test builds, so this module needs no `cfg`.)
mod tests {
    #[test]
    fn ss_normal_and_ss_abort() {
        let normal = super::Condition(super::SS_NORMAL);
        assert_eq!(normal.severity(), super::Severity::Success);
        assert!(normal.is_success());
        assert_eq!((normal.facility(), normal.message_number()), (0, 0));
        let abort = super::Condition(super::SS_ABORT);
        assert_eq!(abort.severity(), super::Severity::Severe);
        assert!(!abort.is_success());
        assert_eq!((abort.facility(), abort.message_number()), (0, 5));
        assert_eq!(
            abort.to_string(),
            "%X0000002C (severity F = STS$K_SEVERE, failure, facility 0 SYSTEM, message 5)"
        );
    }

    #[test]
    fn every_field_of_a_full_value() {
        let c = super::Condition(0xFFFF_FFFF);
        assert_eq!(c.severity(), super::Severity::Reserved(7));
        assert_eq!(c.message_number(), 0x1FFF);
        assert_eq!(c.code(), 0xFFF);
        assert!(c.facility_specific() && c.customer() && c.inhibit_message());
        assert_eq!(
            (c.facility(), c.control(), c.condition_id()),
            (0xFFF, 0xF, 0x01FF_FFFF)
        );
        assert_eq!(
            c.to_string(),
            "%XFFFFFFFF (severity ? = 7, reserved, success, facility 4095, message 8191, \
             facility-specific, customer facility, STS$M_INHIB_MSG, control bits 0xE0000000)"
        );
    }

    #[test]
    fn the_manuals_mapping() {
        use super::ExitMode::*;
        assert_eq!(
            super::crtl_exit(0, Classic),
            super::CrtlExit::Exact(super::Condition(1))
        );
        assert_eq!(
            super::crtl_exit(1, Classic),
            super::CrtlExit::Exact(super::Condition(1))
        );
        assert_eq!(
            super::crtl_exit(2, Classic),
            super::CrtlExit::SeverityOnly(super::Severity::Error)
        );
        assert_eq!(
            super::crtl_exit(44, Classic),
            super::CrtlExit::Exact(super::Condition(super::SS_ABORT))
        );
        assert_eq!(
            super::crtl_exit(-1, Classic),
            super::CrtlExit::Exact(super::Condition(u32::MAX))
        );
        assert_eq!(
            super::crtl_exit(0, Posix),
            super::CrtlExit::Exact(super::Condition(1))
        );
        let super::CrtlExit::FacilityC {
            status: 3,
            de_facto: Some(c),
        } = super::crtl_exit(3, Posix)
        else {
            panic!("{:?}", super::crtl_exit(3, Posix));
        };
        assert_eq!(c, super::Condition(0x0035_A019));
        assert_eq!(
            (c.facility_name(), c.severity()),
            (Some("C"), super::Severity::Success)
        );
        assert_eq!(
            super::crtl_exit(256, Posix),
            super::CrtlExit::FacilityC {
                status: 256,
                de_facto: None
            }
        );
    }
}
