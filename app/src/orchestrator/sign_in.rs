//! Signing in with a password, throttled against guessing: failures are counted per user name
//! and per client address (`throttle`), and a name or address that has used its free
//! attempts is refused at once with the seconds to wait, before any password is checked.
use std::net::IpAddr;

use sea_orm::DatabaseConnection;

use super::accounts::{Caller, UserName, verify_password};
use super::error::Result;
use super::throttle::{self, Kind};

/// The signed-in user for a correct password, `None` for a wrong one (or an unknown name).
/// A text that is not a user name at all is wrong without any work, and nothing of it is
/// stored. `address` is the client's, when known.
pub async fn sign_in(db: &DatabaseConnection, username: &str, password: &str, address: Option<IpAddr>) -> Result<Option<Caller>> {
    let Ok(username) = UserName::parse(username) else {
        return Ok(None);
    };
    let mut keys = vec![(Kind::SignInUser, Kind::SignInUser.key(&username))];
    keys.extend(address.map(|a| (Kind::SignInAddress, Kind::SignInAddress.key(&a.to_string()))));
    throttle::take(db, &keys).await?;
    let found = verify_password(db, &username, password).await?;
    if found.is_some() {
        // Failures in a row: a correct password ends the row for the name, and is not held
        // against the address.
        throttle::clear(db, &keys[0].1).await?;
        if let Some((_, address)) = keys.get(1) {
            throttle::give_back(db, address).await?;
        }
    }
    Ok(found)
}
